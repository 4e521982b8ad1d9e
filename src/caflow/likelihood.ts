/**
 * CAFLOW's objective (docs/caflow.md §3):
 *   log p(Y, W) = lambda * log p_R(Y) + log|det dT/dW| + sum_i log p_{G_i}(L_i | L_{>i}, D)
 * with log p_{G_i}(L_i | ...) = sum_j log N(z_i^j) + log|det dG_i/dL_i|, and log p_R(Y) = sum log N(D) + log|det dR/dY|.
 * The conditional log-likelihood log p(W | Y) is everything but the lambda term.
 */
import * as tf from '@tensorflow/tfjs';
import type { Context } from '../dsl/definition.js';
import { spaceToDepth } from '../dsl/bijectors/squeeze.js';
import { forward } from '../interpreters/transform.js';
import { dName, lName } from './conditional.js';
import { latentsLogProb } from './gaussian.js';
import type { CaflowSpec } from './model.js';
import { priorOf } from './model.js';
import type { CaflowParams } from './params.js';

/** The named, squeezed conditioning of G_i: D_i, and L_j, D_j for j > i (CAFLOW only). */
export const conditioningFor = (m: CaflowSpec, i: number, sqL: readonly tf.Tensor4D[], sqD: readonly tf.Tensor4D[]): Context => {
  const ctx: Record<string, tf.Tensor4D> = { [dName(i)]: sqD[i] as tf.Tensor4D };
  if (m.variant === 'caflow') {
    for (let j = i + 1; j < m.priors.length; j++) {
      ctx[lName(j)] = sqL[j] as tf.Tensor4D;
      ctx[dName(j)] = sqD[j] as tf.Tensor4D;
    }
  }
  return ctx;
};

/** CAFLOW's objective and its terms, per sample (nats). */
export interface LogLikelihood {
  /** lambda * log p_R(Y) + log p(W | Y), per sample (nats). */
  readonly joint: tf.Tensor1D;
  /** log p(W | Y) = log|det dT/dW| + sum_i log p_{G_i}, per sample (nats). */
  readonly conditional: tf.Tensor1D;
  /** log p_R(Y), per sample. */
  readonly logpY: tf.Tensor1D;
  /** log|det dT/dW|, per sample. */
  readonly logDetT: tf.Tensor1D;
  /** log p_{G_i}(L_i | ...), per component i and sample. */
  readonly priors: tf.Tensor1D[];
}

/** All terms of the objective for a batch of targets W and conditions Y (NHWC). */
export const logLikelihood = (m: CaflowSpec, params: CaflowParams) => (w: tf.Tensor4D, y: tf.Tensor4D): LogLikelihood =>
  tf.tidy(() => {
    const r = forward(m.encoderY, params.R)([y]);
    const t = forward(m.encoderW, params.T)([w]);
    const D = r.ys as tf.Tensor4D[];
    const L = t.ys as tf.Tensor4D[];
    const sqD = D.map(spaceToDepth);
    const sqL = L.map(spaceToDepth);
    const priors = m.priors.map((_, i) => {
      const g = forward(priorOf(m, i), params.G[i] as CaflowParams['R'])([L[i] as tf.Tensor4D], conditioningFor(m, i, sqL, sqD));
      return tf.add(latentsLogProb(g.ys as tf.Tensor4D[]), g.logDet) as tf.Tensor1D;
    });
    const logpY = tf.add(latentsLogProb(D), r.logDet) as tf.Tensor1D;
    const conditional = priors.reduce((a, b) => tf.add(a, b), t.logDet) as tf.Tensor1D;
    const joint = tf.add(tf.mul(logpY, m.lambda), conditional) as tf.Tensor1D;
    return { joint, conditional, logpY, logDetT: t.logDet, priors };
  });

/** Training loss: -joint log-likelihood per dimension of W, averaged over the batch (nats/dim). */
export const caflowLoss = (m: CaflowSpec, params: CaflowParams, w: tf.Tensor4D, y: tf.Tensor4D): tf.Scalar =>
  tf.tidy(() => {
    const { joint } = logLikelihood(m, params)(w, y);
    const dims = w.shape[1] * w.shape[2] * w.shape[3];
    return tf.div(tf.neg(tf.mean(joint)), dims) as tf.Scalar;
  });

/** -log p(W | Y) in bits per dimension of W, per sample. */
export const conditionalBitsPerDim = (conditional: tf.Tensor1D, w: tf.Tensor4D): tf.Tensor1D =>
  tf.tidy(() => tf.div(tf.neg(conditional), w.shape[1] * w.shape[2] * w.shape[3] * Math.LN2) as tf.Tensor1D);
