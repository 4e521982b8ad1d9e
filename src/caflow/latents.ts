/**
 * The whole model as one bijection, given Y: W <-> z = (z_i^j for every component i and scale j),
 * with D = R(Y) as fixed conditioning. toLatents is the density direction; fromLatents generates,
 * coarse to fine, and is what sampling runs on random z.
 */
import * as tf from '@tensorflow/tfjs';
import { spaceToDepth } from '../dsl/bijectors/squeeze.js';
import { forward, inverse } from '../interpreters/transform.js';
import { latentsLogProb } from './gaussian.js';
import { conditioningFor } from './likelihood.js';
import { priorOf, type CaflowSpec } from './model.js';
import type { CaflowParams } from './params.js';

/** z[i] are the latents of G_i, in its output order (scales i..n-1 for CAFLOW, i for Dual-Glow+). */
export type Latents = tf.Tensor4D[][];

/** What `toLatents` returns: the latents z[i][j] (component i, scale j; NHWC) and log p(W | Y). */
export type Encoded = {
  /** z[i][j], the latent at scale j of G_i, [N, h, w, c]. */
  readonly z: Latents;
  /** log p(W | Y) per sample (nats). */
  readonly logLikelihood: tf.Tensor1D;
};

/** What `fromLatents` returns: the generated W (NHWC) and its log p(W | Y). */
export type Decoded = {
  /** The generated target images, [N, H, W, C]. */
  readonly w: tf.Tensor4D;
  /** log p(W | Y) of the generated W per sample (nats), accumulated on the way. */
  readonly logLikelihood: tf.Tensor1D;
};

/** D = R(Y), squeezed once for conditioning. */
const encodeCondition = (m: CaflowSpec, params: CaflowParams, y: tf.Tensor4D): tf.Tensor4D[] =>
  (forward(m.encoderY, params.R)([y]).ys as tf.Tensor4D[]).map(spaceToDepth);

/** W and its condition Y (both NHWC) to the latents and log p(W | Y) per sample: the density direction. */
export const toLatents = (m: CaflowSpec, params: CaflowParams) => (w: tf.Tensor4D, y: tf.Tensor4D): Encoded =>
  tf.tidy(() => {
    const sqD = encodeCondition(m, params, y);
    const t = forward(m.encoderW, params.T)([w]);
    const L = t.ys as tf.Tensor4D[];
    const sqL = L.map(spaceToDepth);
    let logLik = t.logDet;
    const z = m.priors.map((_, i) => {
      const g = forward(priorOf(m, i), params.G[i] as CaflowParams['R'])([L[i] as tf.Tensor4D], conditioningFor(m, i, sqL, sqD));
      logLik = tf.add(logLik, tf.add(latentsLogProb(g.ys as tf.Tensor4D[]), g.logDet));
      return [...(g.ys as tf.Tensor4D[])];
    });
    return { z, logLikelihood: logLik };
  });

/** Generates W from latents z given Y, coarse component first (G_{n-1}, then G_{n-2}, ...). */
export const fromLatents = (m: CaflowSpec, params: CaflowParams) => (z: Latents, y: tf.Tensor4D): Decoded =>
  tf.tidy(() => {
    const n = m.priors.length;
    const sqD = encodeCondition(m, params, y);
    const L: tf.Tensor4D[] = new Array<tf.Tensor4D>(n);
    const sqL: tf.Tensor4D[] = new Array<tf.Tensor4D>(n);
    let logLik = tf.zeros([y.shape[0]]) as tf.Tensor1D;
    for (let i = n - 1; i >= 0; i--) {
      const zi = z[i] as tf.Tensor4D[];
      const back = inverse(priorOf(m, i), params.G[i] as CaflowParams['R'])(zi, conditioningFor(m, i, sqL, sqD));
      L[i] = back.x as tf.Tensor4D;
      sqL[i] = spaceToDepth(back.x as tf.Tensor4D);
      // log p_G(L_i) = log N(z) + log|det dG/dL| = log N(z) - log|det dL/dz|.
      logLik = tf.add(logLik, tf.sub(latentsLogProb(zi), back.logDet));
    }
    const t = inverse(m.encoderW, params.T)(L);
    return { w: t.x as tf.Tensor4D, logLikelihood: tf.sub(logLik, t.logDet) as tf.Tensor1D };
  });
