import * as tf from '@tensorflow/tfjs';
import { HALF_LOG_2PI } from '../algebra/normal.js';

/** log N(z; 0, I) per sample, summed over the event. */
export const standardNormalLogProb = (z: tf.Tensor4D): tf.Tensor1D =>
  tf.tidy(() => tf.neg(tf.sum(tf.add(tf.mul(tf.square(z), 0.5), HALF_LOG_2PI), [1, 2, 3])) as tf.Tensor1D);

/** Sum of per-sample log-probs of several latents. */
export const latentsLogProb = (zs: readonly tf.Tensor4D[]): tf.Tensor1D =>
  tf.tidy(() => zs.map(standardNormalLogProb).reduce((a, b) => tf.add(a, b)));
