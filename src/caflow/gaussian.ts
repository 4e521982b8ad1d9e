import * as tf from '@tensorflow/tfjs';
import { standardNormalLogProb as onAlgebra } from '../algebra/normal.js';
import { tfjsOps } from '../algebra/tfjs.js';

/** Elements per sample of a batch tensor. */
const perSample = (z: tf.Tensor): number => z.shape.slice(1).reduce((n, d) => n * d, 1);

/** log N(z; 0, I) per sample, summed over the event (the algebra's standard normal, src/algebra/normal.ts). */
export const standardNormalLogProb = (z: tf.Tensor4D): tf.Tensor1D => latentsLogProb([z]);

/** Sum of per-sample log-probs of several latents. */
export const latentsLogProb = (zs: readonly tf.Tensor4D[]): tf.Tensor1D =>
  tf.tidy(() => onAlgebra(tfjsOps, zs, zs.reduce((n, z) => n + perSample(z), 0)) as tf.Tensor1D);
