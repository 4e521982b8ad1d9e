/**
 * CAFLOW's objective (docs/caflow.md §3):
 *   log p(Y, W) = lambda * log p_R(Y) + log|det dT/dW| + sum_i log p_{G_i}(L_i | L_{>i}, D)
 * with log p_{G_i}(L_i | ...) = sum_j log N(z_i^j) + log|det dG_i/dL_i|, and log p_R(Y) = sum log N(D) + log|det dR/dY|.
 * The conditional log-likelihood log p(W | Y) is everything but the lambda term.
 */
import * as tf from '@tensorflow/tfjs';
import { likelihoodTerms } from './maths.js';
import type { CaflowSpec } from './model.js';
import type { CaflowParams } from './params.js';
import { tfjsCaflowEngine } from './tfjs-engine.js';

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

/** All terms of the objective for a batch of targets W and conditions Y (NHWC), from CAFLOW's maths (src/caflow/maths.ts). */
export const logLikelihood = (m: CaflowSpec, params: CaflowParams) => (w: tf.Tensor4D, y: tf.Tensor4D): LogLikelihood =>
  tf.tidy(() => {
    const t = likelihoodTerms(tfjsCaflowEngine(m, params), m, w, y);
    return { joint: t.joint as tf.Tensor1D, conditional: t.conditional as tf.Tensor1D, logpY: t.logpY as tf.Tensor1D, logDetT: t.logDetT as tf.Tensor1D, priors: t.priors as tf.Tensor1D[] };
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
