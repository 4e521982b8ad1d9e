/**
 * The few tensor ops the layers are built from. Every layer calls these rather than tf directly, so a
 * faster implementation replaces them in one place without touching any spec.
 *
 * `conv2dSame` carries its own gradient, built from a forward convolution (input gradient) and one
 * matrix product (filter gradient): the wasm backend has no Conv2DBackpropFilter kernel at all, and
 * the cpu backend's is very slow, while forward convolutions and matMul are fast on every backend.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * d(conv)/dx for a stride-1 'same' convolution with an odd kernel: the convolution of dy with the
 * kernel rotated by 180 degrees and its in/out channels swapped.
 */
const inputGradient = (dy: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D =>
  tf.conv2d(dy, tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]), 1, 'same');

/**
 * d(conv)/dkernel: with the k*k shifted copies of the padded input laid side by side (im2col),
 * dK[a, b, i, o] = sum_{n,y,x} x[n, y+a-p, x+b-p, i] dy[n, y, x, o] is one matMul. The patches are
 * transposed explicitly: on wasm a matMul with transposeA is 6-12x slower than a transpose followed by
 * a plain matMul at these shapes (docs/performance.md), and elsewhere the transpose is cheap.
 */
const filterGradient = (x: tf.Tensor4D, dy: tf.Tensor4D, kernelShape: readonly number[]): tf.Tensor4D => {
  const [k, , cIn, cOut] = kernelShape as [number, number, number, number];
  const [n, h, w] = x.shape;
  const rows = n * h * w;
  if (k === 1) {
    return tf.reshape(tf.matMul(tf.transpose(tf.reshape(x, [rows, cIn])), tf.reshape(dy, [rows, cOut])), [1, 1, cIn, cOut]);
  }
  const p = (k - 1) / 2;
  const padded = tf.pad(x, [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ]);
  const shifts: tf.Tensor4D[] = [];
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) shifts.push(tf.slice(padded, [0, a, b, 0], [n, h, w, cIn]));
  const patches = tf.reshape(tf.concat(shifts, 3), [rows, k * k * cIn]);
  return tf.reshape(tf.matMul(tf.transpose(patches), tf.reshape(dy, [rows, cOut])), [k, k, cIn, cOut]);
};

const convSameWithGradient = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor4D;
  const kernel = args[1] as tf.Tensor4D;
  const save = args[2] as tf.GradSaveFunc;
  save([x, kernel]);
  return {
    value: tf.conv2d(x, kernel, 1, 'same'),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sk] = saved as [tf.Tensor4D, tf.Tensor4D];
      return [inputGradient(dy as tf.Tensor4D, sk), filterGradient(sx, dy as tf.Tensor4D, sk.shape)];
    },
  };
}) as (x: tf.Tensor4D, kernel: tf.Tensor4D) => tf.Tensor4D;

/** 'same'-padded stride-1 convolution plus bias, NHWC. kernel: [k, k, cIn, cOut] with k odd. */
export const conv2dSame = (x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D =>
  tf.add(convSameWithGradient(x, kernel), bias);

/** Per-sample sum over every axis but the batch axis. */
export const sumPerSample = (x: tf.Tensor): tf.Tensor1D =>
  (x.rank === 1 ? x : tf.sum(x, Array.from({ length: x.rank - 1 }, (_, i) => i + 1))) as tf.Tensor1D;
