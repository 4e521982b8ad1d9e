/**
 * The exported CAFLOW (caflowToPyTorch) against the hand-written PyTorch CAFLOW of the benchmarks: one
 * training step each, 2 threads, same process and batch (bench/pytorch/exported_step.py). Run on its
 * own: `npx tsx bench/exported-pytorch.ts [--threads N]`; prints the medians and exported / hand-written
 * over three alternating rounds (steadier on a busy machine than `npm run bench`'s single measurement of
 * each, section 2's `caflow_step_exported`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { dequantize, initCaflow } from '../src/caflow/index.js';
import { flattenParams, type ParamTree } from '../src/dsl/params.js';
import { caflowToPyTorch } from '../src/caflow/pytorch.js';
import { encodeSafetensors } from '../src/io/safetensors.js';
import { caflowSmall, describeConfig, modelOf, pixelBatch } from './caflow-setup.js';
import { ensureTorch, SYSTEM_PYTHON } from './pytorch.js';

const here = dirname(fileURLToPath(import.meta.url));
const torch = ensureTorch((m) => console.error(m));
if (!torch.ok) throw new Error(torch.note);
const model = modelOf(caflowSmall);
const batch = pixelBatch(caflowSmall);
const params = initCaflow(model, { seed: 0, w: dequantize(batch.w, 'center'), y: dequantize(batch.y, 'center') });
const dir = mkdtempSync(join(tmpdir(), 'typed-flows-exported-bench-'));
writeFileSync(join(dir, 'model.py'), caflowToPyTorch(model));
writeFileSync(
  join(dir, 'params.safetensors'),
  encodeSafetensors(flattenParams(params as unknown as ParamTree).map(([p, t]) => [`params.${p}`, { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.dataSync()) }] as const)),
);
tf.dispose([batch.w, batch.y]);
// --threads N (default 2, as the rest of the PyTorch benchmarks).
const threadsArg = process.argv.indexOf('--threads');
const threads = threadsArg >= 0 ? Number(process.argv[threadsArg + 1]) : 2;
const config = { ...caflowSmall, module: join(dir, 'model.py'), params: join(dir, 'params.safetensors'), threads, warmup: 5, reps: 15, rounds: 3 };
const r = spawnSync(SYSTEM_PYTHON, [join(here, 'pytorch', 'exported_step.py'), JSON.stringify(config)], {
  encoding: 'utf8',
  env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
});
if (r.status !== 0) throw new Error(r.stderr);
const result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { handwritten_ms: number; exported_ms: number; ratio: number; params: Record<string, number> };
console.log(`CAFLOW ${describeConfig(caflowSmall)}: one training step, PyTorch ${torch.version}, ${threads} thread(s)`);
console.log(`hand-written ${result.handwritten_ms.toFixed(1)} ms, exported ${result.exported_ms.toFixed(1)} ms: ratio ${result.ratio.toFixed(3)}`);
console.log(JSON.stringify(result));
