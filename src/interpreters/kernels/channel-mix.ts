/** y = W x at every pixel of an NHWC tensor, and the log|det W| with a gradient (for inv1x1). */
import * as tf from '@tensorflow/tfjs';
import { invert, slogdet, transpose } from '../linalg.js';

/** y[..., i] = sum_j W[i, j] x[..., j]. */
export const mixChannels = (x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D => {
  const [n, h, wd, c] = x.shape;
  return tf.reshape(tf.matMul(tf.reshape(x, [n * h * wd, c]), w, false, true), [n, h, wd, c]);
};

/** W^-1 computed in float64 on the CPU (no backend has a matrix inverse). Not differentiable. */
export const inverseMatrix = (w: tf.Tensor2D): tf.Tensor2D => {
  const n = w.shape[0];
  return tf.tensor2d(Float32Array.from(invert(w.dataSync(), n)), [n, n]);
};

/** log|det W| in float64 with its gradient d/dW = W^-T (Jacobi's formula). */
export const logAbsDet = tf.customGrad(((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const w = inputs[0] as tf.Tensor2D;
  const n = w.shape[0] as number;
  const data = w.dataSync();
  const { logAbsDet: value } = slogdet(data, n);
  return {
    value: tf.scalar(value),
    gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor2d(Float32Array.from(transpose(invert(data, n), n)), [n, n])),
  };
})) as (w: tf.Tensor2D) => tf.Scalar;
