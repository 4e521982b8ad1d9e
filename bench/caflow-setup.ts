/**
 * CAFLOW workloads shared by the benchmarks: a model of a given size, a deterministic 8-bit batch,
 * data-initialised params and a fresh Adam state, and a training-step closure that keeps its own state
 * (so repeated calls are consecutive training steps and nothing leaks).
 */
import * as tf from '@tensorflow/tfjs';
import { caflowConfig, caflowSpec, caflowStep, dequantize, initCaflow, sample, type CaflowParams, type CaflowSpec } from '../src/caflow/index.js';
import { flattenParams } from '../src/interpreters/index.js';
import { createAdamState, disposeReplaced, type AdamState } from '../src/training/index.js';

export interface CaflowBenchConfig {
  readonly size: number;
  readonly channels: number;
  readonly scales: number;
  readonly encoderDepth: number;
  readonly conditionalDepth: number;
  readonly hidden: number;
  readonly batch: number;
}

/** The section-2 model: 32x32 RGB, 2 scales, depth 2 / 2, hidden 32, batch 8. */
export const caflowSmall: CaflowBenchConfig = {
  size: 32,
  channels: 3,
  scales: 2,
  encoderDepth: 2,
  conditionalDepth: 2,
  hidden: 32,
  batch: 8,
};

export const describeConfig = (c: CaflowBenchConfig): string =>
  `${c.channels}x${c.size}x${c.size}, ${c.scales} scales, depth ${c.encoderDepth}/${c.conditionalDepth}, hidden ${c.hidden}, batch ${c.batch}`;

export const modelOf = (c: CaflowBenchConfig): CaflowSpec =>
  caflowSpec(
    caflowConfig({
      target: [c.channels, c.size, c.size],
      condition: [c.channels, c.size, c.size],
      scales: c.scales,
      encoderDepth: c.encoderDepth,
      conditionalDepth: c.conditionalDepth,
      encoderHidden: c.hidden,
      conditionalHidden: c.hidden,
    }),
  );

/** A deterministic 8-bit batch: W a smooth pattern plus noise, Y a blurred, darker copy. */
export const pixelBatch = (c: CaflowBenchConfig, n = c.batch): { w: tf.Tensor4D; y: tf.Tensor4D } =>
  tf.tidy(() => {
    const ramp = tf.reshape(tf.linspace(0, 200, c.size), [1, 1, c.size, 1]);
    const w = tf.floor(tf.clipByValue(tf.add(ramp, tf.randomUniform([n, c.size, c.size, c.channels], 0, 55, 'float32', 7)), 0, 255)) as tf.Tensor4D;
    const y = tf.floor(tf.div(tf.avgPool(w, 3, 1, 'same'), 2)) as tf.Tensor4D;
    return { w, y };
  });

export interface CaflowTrainer {
  readonly model: CaflowSpec;
  readonly paramCount: number;
  /** One training step (joint phase, lr 1e-3, clip 1) on the fixed batch; returns the loss. */
  readonly step: () => number;
  readonly params: () => CaflowParams;
  readonly dispose: () => void;
}

export const caflowTrainer = (c: CaflowBenchConfig): CaflowTrainer => {
  const model = modelOf(c);
  const batch = pixelBatch(c);
  let params = tf.tidy(() => initCaflow(model, { seed: 0, w: dequantize(batch.w, 'center'), y: dequantize(batch.y, 'center') }) as unknown as tf.TensorContainer) as unknown as CaflowParams;
  let adam: AdamState = createAdamState(params);
  let seed = 0;
  const paramCount = flattenParams(params).reduce((n, [, t]) => n + t.size, 0);
  return {
    model,
    paramCount,
    step: () => {
      const r = caflowStep(model, params, adam, batch, { phase: 'joint', lr: 1e-3, clipNorm: 1, seed: seed++ });
      disposeReplaced(params, r.params);
      disposeReplaced(adam, r.state);
      params = r.params;
      adam = r.state;
      return r.loss;
    },
    params: () => params,
    dispose: () => {
      disposeReplaced(params, []);
      disposeReplaced(adam, []);
      tf.dispose([batch.w, batch.y]);
    },
  };
};

/** k samples of one condition Y (tensors returned for the caller to read and dispose). */
export const sampleOnce = (model: CaflowSpec, params: CaflowParams, y: tf.Tensor4D, k: number, seed: number): tf.Tensor[] => {
  const s = sample(model, params)(y, { k, seed });
  return [s.w, s.logLikelihood];
};
