/**
 * One CAFLOW optimisation step (docs/caflow.md §3), in either training mode:
 * - 'joint': the whole model end to end on the joint objective (the default);
 * - 'encoders' then 'priors': pretrain R and T as unconditional flows on
 *   -(log p_R(Y) + log p_T(W)), then train the G_i alone with R and T frozen.
 * The batch is dequantised here (uniform noise, seeded per step) so training sees continuous data.
 */
import * as tf from '@tensorflow/tfjs';
import { paramInfo } from '../interpreters/param-shapes.js';
import type { ParamTree } from '../dsl/params.js';
import type { AdamState } from '../training/adam.js';
import { trainStep, type TrainStepResult } from '../training/step.js';
import { caflowLoss } from './likelihood.js';
import { encodersLogProb } from './maths.js';
import type { CaflowSpec } from './model.js';
import type { CaflowParams } from './params.js';
import { dequantize } from './quantize.js';
import { tfjsCaflowEngine } from './tfjs-engine.js';

/** What a step trains: 'joint' (the whole model), 'encoders' (R and T alone) or 'priors' (the G_i, R and T frozen). */
export type Phase = 'joint' | 'encoders' | 'priors';

/** Dotted paths (in the `{ R, T, G }` tree) of the parameters a phase trains. */
export const trainableFor = (m: CaflowSpec, phase: Phase): Set<string> => {
  const paths = (prefix: string, spec: CaflowSpec['encoderW']): string[] =>
    paramInfo(spec)
      .filter((p) => p.trainable)
      .map((p) => `${prefix}.${p.path}`);
  const encoders = [...paths('R', m.encoderY), ...paths('T', m.encoderW)];
  const priors = m.priors.flatMap((g, i) => paths(`G.${i}`, g));
  return new Set(phase === 'joint' ? [...encoders, ...priors] : phase === 'encoders' ? encoders : priors);
};

/** -(log p_R(Y) + log p_T(W)) per dimension: the unconditional pretraining objective. */
export const encodersLoss = (m: CaflowSpec, params: CaflowParams, w: tf.Tensor4D, y: tf.Tensor4D): tf.Scalar =>
  tf.tidy(() => {
    const logp = encodersLogProb(tfjsCaflowEngine(m, params), m, w, y);
    const dims = w.shape[1] * w.shape[2] * w.shape[3] + y.shape[1] * y.shape[2] * y.shape[3];
    return tf.div(tf.neg(tf.mean(logp)), dims) as tf.Scalar;
  });

/** Options of one `caflowStep`. */
export interface CaflowStepOptions {
  /** The parameters this step trains. */
  readonly phase: Phase;
  /** Adam's learning rate, or a schedule giving it from the step number. */
  readonly lr: number | ((step: number) => number);
  /** Maximum global gradient norm; Infinity disables clipping (default: `trainStep`'s, 1). */
  readonly clipNorm?: number;
  /** Seed of this step's dequantisation noise. */
  readonly seed: number;
}

/** What `caflowStep` returns: the step's loss, gradient norm and new state, with CAFLOW's `{ R, T, G }` parameters. */
export interface CaflowStepResult extends Omit<TrainStepResult, 'params'> {
  readonly params: CaflowParams;
}

const trainableCache = new WeakMap<CaflowSpec, Map<Phase, Set<string>>>();

/** One step on a batch of 8-bit images (pixel values 0..255, NHWC). */
export const caflowStep = (
  m: CaflowSpec,
  params: CaflowParams,
  adam: AdamState,
  batch: { readonly w: tf.Tensor4D; readonly y: tf.Tensor4D },
  options: CaflowStepOptions,
): CaflowStepResult => {
  const byPhase = trainableCache.get(m) ?? new Map<Phase, Set<string>>();
  trainableCache.set(m, byPhase);
  const trainable = byPhase.get(options.phase) ?? trainableFor(m, options.phase);
  byPhase.set(options.phase, trainable);
  const w = dequantize(batch.w, 'uniform', options.seed);
  const y = dequantize(batch.y, 'uniform', options.seed + 1);
  try {
    const loss = (p: ParamTree): tf.Scalar =>
      options.phase === 'encoders' ? encodersLoss(m, p as CaflowParams, w, y) : caflowLoss(m, p as CaflowParams, w, y);
    const result = trainStep(loss, params as ParamTree, adam, {
      lr: options.lr,
      trainable,
      ...(options.clipNorm === undefined ? {} : { clipNorm: options.clipNorm }),
    });
    return { ...result, params: result.params as CaflowParams };
  } finally {
    tf.dispose([w, y]);
  }
};
