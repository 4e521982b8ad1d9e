/**
 * Section 5, on the wasm backend: tfjs-backend-wasm's own kernels against the ones typed-flows puts in
 * front of them (src/backend/wasm-*.ts, registered by `selectBackend` through `registerWasmKernels`),
 * and Adam as tensor ops against the fused update kernel (src/training/adam-kernel.ts):
 * - kernel by kernel, at shapes from the CAFLOW 32x32 model (a coupling's channel join and split, an
 *   Inv1x1 weight gradient, a clone saved for the backward pass, a same-dtype cast);
 * - the Adam update of the model's 826,864 parameters;
 * - a whole CAFLOW training step and a sampling call, everything stock against everything ours.
 * `useStockWasmKernels` swaps the registrations before each timed call; each pair is interleaved.
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { useStockWasmKernels } from '../src/backend/wasm-kernel-registry.js';
import { registerWasmKernels } from '../src/backend/wasm-kernels.js';
import { dequantize } from '../src/caflow/index.js';
import { flattenParams, type ParamTree } from '../src/dsl/params.js';
import { adamUpdateFlat, createAdamState, disposeReplaced, flatGradients, setFusedAdam } from '../src/training/index.js';
import { caflowSmall, caflowTrainer, describeConfig, pixelBatch, sampleOnce } from './caflow-setup.js';
import { interleaved, round, type RunSize } from './common.js';
import { SAMPLES_K } from './versus-pytorch.js';
import type { PairFigure } from './wasm-gradients.js';

export interface WasmKernelsResult {
  readonly date: string;
  readonly repetitions: { readonly cheap: RunSize['cheap']; readonly step: RunSize['step'] };
  /** a: wasm's own kernel; b: typed-flows'. */
  readonly kernels: PairFigure[];
  /** a: Adam as tensor ops on one joined vector; b: the fused kernel. */
  readonly adam: PairFigure;
  /** a: every kernel stock and Adam as tensor ops; b: everything typed-flows registers. */
  readonly caflow: PairFigure[];
}

/** Stock (a) or ours (b), set before each timed call. */
const swap = (which: 'a' | 'b'): void => {
  useStockWasmKernels(which === 'a');
  setFusedAdam(which === 'b');
};

const pair = (workload: string, a: string, b: string, f: () => tf.Tensor[], warmup: number, reps: number, before = swap): PairFigure => {
  const t = interleaved(f, f, warmup, reps, before);
  return { workload, a, b, timeA: t.a, timeB: t.b, ratio: round(t.a.median_ms / t.b.median_ms, 3), pairedRatio: round(t.paired, 3) };
};

/**
 * The op `CALLS` times per timed call, the last result returned (and read back by the timing loop):
 * one call is tens of microseconds, and the read-back of a single result would swamp the difference.
 */
const CALLS = 20;
const repeated =
  (f: () => tf.Tensor[]) =>
  (): tf.Tensor[] => {
    for (let i = 1; i < CALLS; i++) tf.dispose(f());
    return f();
  };

/** A new tensor with t's values (one Add). */
const fresh = (t: tf.Tensor): tf.Tensor => tf.add(t, 0);

const kernelFigures = (size: RunSize): PairFigure[] => {
  const { warmup, reps } = size.cheap;
  const r = (shape: number[], seed: number): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed);
  const half = r([8, 16, 16, 6], 1);
  const whole = r([8, 16, 16, 12], 2);
  const pixels = r([128, 96], 3);
  const mixed = r([512, 24], 4);
  const weight = r([24, 24], 5);
  const hidden = r([8, 16, 16, 32], 6);
  const own = 'wasm\'s own';
  const ours = 'typed-flows\'';
  const figures = [
    pair(`Concat: a coupling joins its halves, 2 x [8,16,16,6] on channels (${CALLS} calls)`, own, ours, repeated(() => [tf.concat([half, half], 3)]), warmup, reps),
    pair(`SplitV: a coupling splits [8,16,16,12] into halves (${CALLS} calls)`, own, ours, repeated(() => tf.split(whole, 2, 3)), warmup, reps),
    // Fresh operands for every product, as in training: XNNPACK keeps the packed right operand of a
    // product for as long as that tensor lives, which would flatter a product of the same tensors.
    pair(`BatchMatMul a^T b: an Inv1x1 weight gradient, [128,96]^T [128,96], fresh operands (${CALLS} calls)`, own, ours, repeated(() => [tf.tidy(() => tf.matMul(fresh(pixels), fresh(pixels), true, false))]), warmup, reps),
    pair(`BatchMatMul a b^T: an Inv1x1 forward, [512,24] [24,24]^T, fresh operands (${CALLS} calls)`, own, ours, repeated(() => [tf.tidy(() => tf.matMul(fresh(mixed), fresh(weight), false, true))]), warmup, reps),
    pair(`Identity: a tensor saved for the backward pass, [8,16,16,32] (${CALLS} calls)`, own, ours, repeated(() => [tf.clone(hidden)]), warmup, reps),
    pair(`Cast float32 -> float32 (Multiply's gradient), [8,16,16,32] (${CALLS} calls)`, own, ours, repeated(() => [tf.cast(hidden, 'float32')]), warmup, reps),
  ];
  tf.dispose([half, whole, pixels, mixed, weight, hidden]);
  return figures;
};

const adamFigure = (size: RunSize): PairFigure => {
  const trainer = caflowTrainer(caflowSmall);
  const params = trainer.params() as unknown as ParamTree;
  const state = createAdamState(params);
  const grad = flatGradients(flattenParams(params).map(([, t]) => t));
  const all = (): boolean => true;
  const figure = pair(
    `Adam update of the ${describeConfig(caflowSmall)} model's ${trainer.paramCount.toLocaleString('en-US')} parameters`,
    'tensor ops',
    'fused kernel',
    () => {
      // Every parameter is trained, so all of these are new tensors. On wasm the update has run when it
      // returns; reading ~10 MB back would only add the same copy to both sides.
      const r = adamUpdateFlat(params, grad, state, { lr: 1e-3, trainable: all });
      tf.dispose([...flattenParams(r.params), ...flattenParams(r.state.m), ...flattenParams(r.state.v)].map(([, t]) => t));
      return [tf.scalar(0)];
    },
    size.cheap.warmup,
    size.cheap.reps,
    (which) => setFusedAdam(which === 'b'),
  );
  setFusedAdam(true);
  disposeReplaced(state, []);
  grad.dispose();
  trainer.dispose();
  return figure;
};

const caflowFigures = (size: RunSize): PairFigure[] => {
  const { warmup, reps } = size.step;
  const trainer = caflowTrainer(caflowSmall);
  const y = tf.tidy(() => dequantize(pixelBatch(caflowSmall, 1).y, 'center'));
  let seed = 0;
  const stock = 'tfjs-wasm\'s kernels, Adam as ops';
  const ours = 'typed-flows\' kernels';
  const figures = [
    pair(`CAFLOW ${describeConfig(caflowSmall)}: one training step`, stock, ours, () => [tf.scalar(trainer.step())], warmup, reps),
    pair(`CAFLOW ${describeConfig(caflowSmall)}: sampling, k = ${SAMPLES_K}`, stock, ours, () => sampleOnce(trainer.model, trainer.params(), y, SAMPLES_K, seed++), warmup, reps),
  ];
  trainer.dispose();
  y.dispose();
  return figures;
};

/** Runs the section on wasm (switching to it if needed, and back afterwards); leaves typed-flows' kernels on. */
export const runWasmKernels = async (size: RunSize): Promise<WasmKernelsResult> => {
  const previous: string | undefined = tf.getBackend();
  if (previous !== 'wasm' && !(await tf.setBackend('wasm'))) throw new Error('bench: the wasm backend is unavailable');
  registerWasmKernels();
  try {
    return {
      date: new Date().toISOString(),
      repetitions: { cheap: size.cheap, step: size.step },
      kernels: kernelFigures(size),
      adam: adamFigure(size),
      caflow: caflowFigures(size),
    };
  } finally {
    swap('b');
    if (previous !== undefined && previous !== 'wasm') await tf.setBackend(previous);
  }
};
