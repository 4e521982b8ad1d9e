/**
 * Section 7: the same inference workloads on three engines, in one run: ONNX Runtime (onnxruntime-node,
 * CPU, all cores; the graphs of src/interpreters/onnx and src/caflow/onnx.ts), PyTorch CPU (2 threads,
 * its own process: bench/pytorch/bench.py `engines`) and tfjs on the selected backend (wasm here).
 * - CAFLOW sampling: k = 8 samples of one Y, ranked (the section-2 model);
 * - CAFLOW likelihood of a batch of 8 pairs: R, T and every G_i forward (log p(W|Y), log p(Y), joint);
 * - a Glow block forward: depth x [ActNorm, Inv1x1, AffineCoupling] on a batch of 16 x 12x16x16.
 * Ratios: ONNX Runtime / PyTorch and tfjs / ONNX Runtime (below 1: the first is faster).
 */
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { dequantize, logLikelihood } from '../src/caflow/index.js';
import { actnorm, affineCoupling, chain, convNet, inv1x1, repeat } from '../src/dsl/index.js';
import { disposeParams, forward, init, parameterCount } from '../src/interpreters/index.js';
import { toOnnx } from '../src/interpreters/onnx/index.js';
import { onnxCaflow } from '../src/node/caflow-onnx.js';
import { onnxSession } from '../src/node/onnx-runtime.js';
import { caflowSmall, caflowTrainer, describeConfig, pixelBatch, sampleOnce } from './caflow-setup.js';
import { log, round, timeTf, type RunSize, type Timing } from './common.js';
import { ensureTorch, runTorchBench } from './pytorch.js';

export const ENGINES_K = 8;
export const GLOW = { batch: 16, size: 16, channels: 12, hidden: 64, depth: 4 } as const;

export interface EnginesFigure {
  readonly id: string;
  readonly workload: string;
  readonly onnx: Timing;
  readonly tfjs: Timing;
  readonly pytorch?: Timing;
  /** ONNX Runtime / PyTorch. */
  readonly onnxVsPytorch?: number;
  /** tfjs / ONNX Runtime. */
  readonly tfjsVsOnnx: number;
}

export interface EnginesResult {
  readonly figures: EnginesFigure[];
  readonly onnxRuntime: string;
  readonly tfjsBackend: string;
  /** This section may be merged into the results of a run on another machine (--only-engines). */
  readonly cpu: string;
  readonly cores: number;
  readonly torch: { readonly ok: boolean; readonly version?: string; readonly threads?: number; readonly note?: string };
  readonly glowParams: { readonly tfjs: number; readonly pytorch?: number };
  readonly otherProcessesBusy: number | null;
}

/** Median of `reps` timed calls after `warmup` untimed ones, for async work (ONNX Runtime). */
const timeAsync = async (fn: () => Promise<void>, warmup: number, reps: number): Promise<Timing> => {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { median_ms: sorted[Math.floor(sorted.length / 2)] as number, samples_ms: samples };
};

const onnxRuntimeVersion = (): string => {
  try {
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

export const runEngines = async (size: RunSize, tfjsBackend: string, busy: number | null): Promise<EnginesResult> => {
  const { warmup, reps } = size.step;
  // PyTorch first, in its own process, while this one is quiet.
  const availability = ensureTorch(log);
  const torchRun = availability.ok
    ? runTorchBench({ threads: 2, engines: { k: ENGINES_K, caflow: { ...caflowSmall, warmup, reps }, glow: { ...GLOW, warmup, reps } } }, log)
    : undefined;
  const torchFigures = torchRun?.ok === true ? torchRun.results.figures : undefined;
  const torchNote = !availability.ok ? availability.note : torchRun?.ok === false ? torchRun.note : undefined;

  log(`bench: CAFLOW ${describeConfig(caflowSmall)}: sampling (k = ${ENGINES_K}) and likelihood on ONNX Runtime and tfjs`);
  const trainer = caflowTrainer(caflowSmall);
  const model = trainer.model;
  const params = trainer.params();
  const batch = pixelBatch(caflowSmall);
  const w = dequantize(batch.w, 'center');
  const y = dequantize(batch.y, 'center');
  const y1 = tf.tidy(() => tf.slice(y, [0, 0, 0, 0], [1, -1, -1, -1])) as tf.Tensor4D;
  const engine = await onnxCaflow(model, params, ENGINES_K);
  let seed = 0;
  const onnxSample = await timeAsync(async () => {
    const s = await engine.sample(y1, { seed: seed++ });
    tf.dispose([s.w, s.logLikelihood]);
  }, warmup, reps);
  const tfjsSample = timeTf(() => sampleOnce(model, params, y1, ENGINES_K, seed++), warmup, reps);
  const onnxLikelihood = await timeAsync(async () => void (await engine.conditional(w, y)), warmup, reps);
  const tfjsLikelihood = timeTf(() => {
    const r = logLikelihood(model, params)(w, y);
    tf.dispose([r.logpY, r.logDetT, ...r.priors]);
    return [r.joint, r.conditional];
  }, warmup, reps);
  await engine.release();
  trainer.dispose();
  tf.dispose([batch.w, batch.y, w, y, y1]);

  log(`bench: Glow block forward, ${GLOW.depth} x [ActNorm, Inv1x1, AffineCoupling(hidden ${GLOW.hidden})], batch ${GLOW.batch} x ${GLOW.channels}x${GLOW.size}x${GLOW.size}`);
  const shape = [GLOW.channels, GLOW.size, GLOW.size] as const;
  const glow = repeat(chain(actnorm(shape), inv1x1(shape), affineCoupling(shape, { net: convNet({ hidden: GLOW.hidden }) })), GLOW.depth);
  const x = tf.randomNormal([GLOW.batch, GLOW.size, GLOW.size, GLOW.channels], 0, 1, 'float32', 3) as tf.Tensor4D;
  const glowParams = init(glow, { seed: 1, data: [x] });
  const session = await onnxSession(toOnnx(glow, glowParams, { direction: 'forward' }));
  const feed = { x: { data: Float32Array.from(x.dataSync()), dims: x.shape } };
  const onnxGlow = await timeAsync(async () => void (await session.run(feed)), warmup, reps);
  const tfjsGlow = timeTf(() => {
    const r = forward(glow, glowParams)(x);
    return [r.y, r.logDet];
  }, warmup, reps);
  await session.release();
  disposeParams(glowParams);
  x.dispose();

  const figure = (id: string, workload: string, onnx: Timing, tfjs: Timing): EnginesFigure => {
    const pytorch = torchFigures?.[`engines_${id}`];
    return {
      id,
      workload,
      onnx,
      tfjs,
      ...(pytorch === undefined ? {} : { pytorch: { median_ms: pytorch.median_ms, samples_ms: [...pytorch.samples_ms] }, onnxVsPytorch: round(onnx.median_ms / pytorch.median_ms) }),
      tfjsVsOnnx: round(tfjs.median_ms / onnx.median_ms),
    };
  };
  const pyGlow = torchRun?.ok === true ? torchRun.results.shapes?.['engines_glow_params'] : undefined;
  return {
    figures: [
      figure('caflow_sample', `CAFLOW ${describeConfig(caflowSmall)}: sampling, k = ${ENGINES_K} samples of one Y, ranked`, onnxSample, tfjsSample),
      figure('caflow_likelihood', `CAFLOW ${describeConfig(caflowSmall)}: log-likelihood of a batch of ${caflowSmall.batch} pairs (R, T, every G_i)`, onnxLikelihood, tfjsLikelihood),
      figure('glow_forward', `Glow block forward: ${GLOW.depth} x [ActNorm, Inv1x1, AffineCoupling (hidden ${GLOW.hidden})], batch ${GLOW.batch} x ${GLOW.channels}x${GLOW.size}x${GLOW.size}`, onnxGlow, tfjsGlow),
    ],
    onnxRuntime: onnxRuntimeVersion(),
    tfjsBackend,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    torch: {
      ok: torchFigures !== undefined,
      ...(availability.version === undefined ? {} : { version: availability.version }),
      ...(torchRun?.ok === true ? { threads: torchRun.results.threads } : {}),
      ...(torchNote === undefined ? {} : { note: torchNote }),
    },
    glowParams: { tfjs: parameterCount(glow), ...(typeof pyGlow === 'number' ? { pytorch: pyGlow } : {}) },
    otherProcessesBusy: busy,
  };
};
