/**
 * Sampling (docs/caflow.md §2): draw every z_i^j ~ N(0, tau_j^2 I), generate L_{n-1} first, then L_i
 * for i = n-2 .. 0 conditioned on the coarser L_j and on D = R(Y), and finally W = T^-1(L).
 * k samples per condition run as one batch (Y repeated k times). Each sample's exact
 * conditional log-likelihood log p(W | Y) is accumulated on the way (no second pass), and the k
 * samples of each condition are returned best first.
 */
import * as tf from '@tensorflow/tfjs';
import type { Shape3 } from '../dsl/shape.js';
import { seededNormal } from '../interpreters/seeded-normal.js';
import { signature } from '../dsl/signature.js';
import { ShapeMismatchError } from '../dsl/errors.js';
import { fromLatents } from './latents.js';
import { imageShapes, type CaflowSpec } from './model.js';
import type { CaflowParams } from './params.js';

/** Options of `sample`. */
export interface SampleOptions {
  /** Samples per condition. */
  readonly k: number;
  /** One temperature, or one per scale (index = scale, fine to coarse). Default 1. */
  readonly temperature?: number | readonly number[];
  /** Seed of the noise draws (default 0). */
  readonly seed?: number;
  /**
   * Standard normal noise to use instead of drawing it from `seed`: noise[i][j] for the j-th latent of
   * G_i, [B*k, h, w, c] (rows b*k .. b*k+k-1 for condition b), scaled by the temperature here. For
   * reproducing a run elsewhere (the exported ONNX sampling graph takes the same noise). Not disposed.
   */
  readonly noise?: readonly (readonly tf.Tensor4D[])[];
}

/** k samples per condition and their log-likelihoods. */
export interface Samples {
  /** Shape [B*k, H, W, C]: the k samples of condition b at rows b*k .. b*k+k-1, best first. */
  readonly w: tf.Tensor4D;
  /** log p(W | Y) of each row (nats), non-increasing within each condition. */
  readonly logLikelihood: tf.Tensor1D;
}

/**
 * Repeats each sample k times in place: [B, ...] -> [B*k, ...] with copies adjacent. A concat of k
 * references rather than tf.tile, whose wasm kernel took 1.7 ms for one 32x32x3 image repeated 8 times.
 */
export const repeatEach = (t: tf.Tensor4D, k: number): tf.Tensor4D =>
  tf.tidy(() => {
    const [b, h, w, c] = t.shape;
    const one = tf.expandDims(t, 1);
    return tf.reshape(k === 1 ? one : tf.concat(Array.from({ length: k }, () => one), 1), [b * k, h, w, c]);
  });

const temperatureAt = (t: SampleOptions['temperature'], scale: number): number =>
  t === undefined ? 1 : typeof t === 'number' ? t : (t[scale] ?? t[t.length - 1] ?? 1);

/** The given noise of latent j of G_i, checked against the shape sampling needs. */
const noiseAt = (noise: SampleOptions['noise'], i: number, j: number, shape: readonly number[]): tf.Tensor4D | undefined => {
  if (noise === undefined) return undefined;
  const t = noise[i]?.[j];
  if (t === undefined || t.shape.join(',') !== shape.join(','))
    throw new ShapeMismatchError(`sample: noise[${i}][${j}] must be a tensor of shape [${shape.join(',')}], got ${t === undefined ? 'none' : `[${t.shape.join(',')}]`}`);
  return t;
};

/**
 * The standard normal noise sample() draws from `seed` for `rows` = B*k rows: [i][j] for latent j of
 * G_i, seeded by seed + 100 i + j. Exported so that other engines (the ONNX sampling graph) can be fed
 * exactly the noise sample() uses.
 */
export const sampleNoise = (m: CaflowSpec, rows: number, seed: number): tf.Tensor4D[][] =>
  m.priors.map((prior, i) =>
    imageShapes(signature(prior).outs, 'latent of a prior').map(([c, h, w]: Shape3, j) => seededNormal<tf.Rank.R4>([rows, h, w, c], 1, seed + 100 * i + j)),
  );

/** The temperature of each scale (index = scale), as sample() applies it. */
export const temperatures = (m: CaflowSpec, t: SampleOptions['temperature']): number[] => m.priors.map((_, scale) => temperatureAt(t, scale));

/** k samples of W for each condition Y [B, H, W, C] (NHWC), best first per condition. */
export const sample = (m: CaflowSpec, params: CaflowParams) => (y: tf.Tensor4D, options: SampleOptions): Samples => {
  const { k } = options;
  const seed = options.seed ?? 0;
  const unranked = tf.tidy(() => {
    const rows = y.shape[0] * k;
    const drawn = options.noise === undefined ? sampleNoise(m, rows, seed) : undefined;
    const z = m.priors.map((prior, i) =>
      // CAFLOW's G_i emits latents at scales i..n-1; Dual-Glow+'s only at scale i.
      imageShapes(signature(prior).outs, 'latent of a prior').map(([c, h, w]: Shape3, j) =>
        tf.mul(noiseAt(options.noise, i, j, [rows, h, w, c]) ?? (drawn?.[i]?.[j] as tf.Tensor4D), temperatureAt(options.temperature, i + j)) as tf.Tensor4D,
      ),
    );
    return fromLatents(m, params)(z, repeatEach(y, k));
  });
  // Rank the k samples of each condition by their log-likelihood (one small sync).
  const values = unranked.logLikelihood.dataSync();
  const order = Array.from({ length: y.shape[0] }, (_, b) =>
    Array.from({ length: k }, (_, j) => b * k + j).sort((p, q) => (values[q] as number) - (values[p] as number)),
  ).flat();
  const ranked = tf.tidy(() => ({
    w: tf.gather(unranked.w, order) as tf.Tensor4D,
    logLikelihood: tf.gather(unranked.logLikelihood, order) as tf.Tensor1D,
  }));
  tf.dispose([unranked.w, unranked.logLikelihood]);
  return ranked;
};
