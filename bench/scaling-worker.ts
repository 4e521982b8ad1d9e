/**
 * One configuration of the scaling sweep (section 3), in a process of its own so that its resident
 * memory (RSS, and its high-water mark maxRSS) belongs to that configuration alone.
 *
 * Usage: node --import tsx bench/scaling-worker.ts '<json {config, warmup, reps}>'
 * The backend is the one the parent chose, passed through TYPED_FLOWS_BACKEND. Prints one JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend/index.js';
import { caflowTrainer, type CaflowBenchConfig } from './caflow-setup.js';
import { profileKernels, timeSync } from './common.js';

interface Job {
  readonly config: CaflowBenchConfig;
  readonly warmup: number;
  readonly reps: number;
}

/** Bytes of the wasm backend's linear memory (it only grows), when the backend is wasm. */
const wasmHeapBytes = (): number | undefined => {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.byteLength;
};

const main = async (): Promise<void> => {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const { name: backend } = await selectBackend({ log: () => undefined });
  const rssBaseline = process.memoryUsage().rss;
  const trainer = caflowTrainer(job.config);
  const step = timeSync(() => void trainer.step(), job.warmup, job.reps);
  const profile = await profileKernels(() => void trainer.step(), 5);
  const out = {
    backend,
    config: job.config,
    params: trainer.paramCount,
    step,
    peakTensorBytes: profile.peakBytes,
    kernelCalls: profile.kernelCalls,
    rssBaseline,
    rssAfter: process.memoryUsage().rss,
    maxRss: process.resourceUsage().maxRSS * 1024,
    wasmHeapBytes: wasmHeapBytes() ?? null,
    topKernels: profile.byKernel.slice(0, 5),
    categories: profile.categories,
  };
  trainer.dispose();
  process.stdout.write(`${JSON.stringify(out)}\n`);
};

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
