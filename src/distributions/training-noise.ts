/**
 * Noise regularisation (Rothfuss et al. 2019, "Noise Regularization for Conditional Density
 * Estimation"): each training minibatch gets fresh Gaussian noise, so the model fits the data smoothed
 * by a small kernel instead of memorising its rows. The noise is stated in standard deviations of
 * each element over the training rows, so one setting means the same on data of any scale.
 */
import * as tf from '@tensorflow/tfjs';

/** Per-element standard deviation over the rows (axis 0) of each tensor: [1, ...event]. */
export const elementScales = (xs: readonly tf.Tensor[]): tf.Tensor[] =>
  xs.map((x) => tf.tidy(() => tf.sqrt(tf.moments(x, 0, true).variance)));

/** x + amount * scale * N(0, 1), a fresh draw per call from `seed`. */
export const withNoise = (xs: readonly tf.Tensor[], scales: readonly tf.Tensor[], amount: number, seed: number): tf.Tensor[] =>
  xs.map((x, i) => tf.tidy(() => tf.add(x, tf.mul(tf.randomNormal(x.shape, 0, amount, 'float32', seed + i), scales[i] as tf.Tensor))));
