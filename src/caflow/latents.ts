/**
 * The whole model as one bijection, given Y: W <-> z = (z_i^j for every component i and scale j),
 * with D = R(Y) as fixed conditioning. toLatents is the density direction; fromLatents generates,
 * coarse to fine, and is what sampling runs on random z.
 */
import * as tf from '@tensorflow/tfjs';
import { encodeCondition, fromLatents as generate, toLatents as encode } from './maths.js';
import type { CaflowSpec } from './model.js';
import type { CaflowParams } from './params.js';
import { tfjsCaflowEngine } from './tfjs-engine.js';

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

/** W and its condition Y (both NHWC) to the latents and log p(W | Y) per sample: the density direction. */
export const toLatents = (m: CaflowSpec, params: CaflowParams) => (w: tf.Tensor4D, y: tf.Tensor4D): Encoded =>
  tf.tidy(() => {
    const e = tfjsCaflowEngine(m, params);
    const t = encode(e, m, w, encodeCondition(e, m, y).sqD);
    return { z: t.z.map((zi) => [...zi] as tf.Tensor4D[]), logLikelihood: t.logp as tf.Tensor1D };
  });

/** Generates W from latents z given Y, coarse component first (G_{n-1}, then G_{n-2}, ...). */
export const fromLatents = (m: CaflowSpec, params: CaflowParams) => (z: Latents, y: tf.Tensor4D): Decoded =>
  tf.tidy(() => {
    const e = tfjsCaflowEngine(m, params);
    const out = generate(e, m, z, encodeCondition(e, m, y).sqD);
    return { w: out.w as tf.Tensor4D, logLikelihood: out.logp as tf.Tensor1D };
  });
