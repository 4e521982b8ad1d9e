/**
 * The few tensor ops the layers are built from. Every layer calls these rather than tf directly, so a
 * faster implementation (e.g. conv gradients for the wasm backend) replaces them in one place.
 */
import * as tf from '@tensorflow/tfjs';

/** 'same'-padded stride-1 convolution plus bias, NHWC. kernel: [k, k, cIn, cOut]. */
export const conv2dSame = (x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D =>
  tf.add(tf.conv2d(x, kernel, 1, 'same'), bias);

/** Per-sample sum over every axis but the batch axis. */
export const sumPerSample = (x: tf.Tensor): tf.Tensor1D =>
  (x.rank === 1 ? x : tf.sum(x, Array.from({ length: x.rank - 1 }, (_, i) => i + 1))) as tf.Tensor1D;
