/**
 * The few tensor ops the layers are built from. Every layer calls these rather than tf directly, so a
 * faster implementation replaces them in one place without touching any spec.
 *
 * `conv2dSame` carries its own gradient (src/layers/conv-gradients.ts), built from a forward convolution
 * (input gradient) and per-tap products or one batch/channel-swapped convolution (filter gradient): the wasm backend has no Conv2DBackpropFilter kernel at all, and
 * the cpu backend's is very slow, while forward convolutions and matMul are fast on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { convFilterGradient, convInputGradient, samePadding } from './conv-gradients.js';

const convSameWithGradient = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor4D;
  const kernel = args[1] as tf.Tensor4D;
  const save = args[2] as tf.GradSaveFunc;
  save([x, kernel]);
  return {
    value: tf.conv2d(x, kernel, 1, 'same'),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sk] = saved as [tf.Tensor4D, tf.Tensor4D];
      const pad = samePadding(sk.shape[0]);
      return [convInputGradient(dy as tf.Tensor4D, sk, pad), convFilterGradient(sx, dy as tf.Tensor4D, sk.shape, pad)];
    },
  };
}) as (x: tf.Tensor4D, kernel: tf.Tensor4D) => tf.Tensor4D;

/** 'same'-padded stride-1 convolution plus bias, NHWC. kernel: [k, k, cIn, cOut] with k odd. */
export const conv2dSame = (x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D =>
  tf.add(convSameWithGradient(x, kernel), bias);

/** Per-sample sum over every axis but the batch axis. */
export const sumPerSample = (x: tf.Tensor): tf.Tensor1D =>
  (x.rank === 1 ? x : tf.sum(x, Array.from({ length: x.rank - 1 }, (_, i) => i + 1))) as tf.Tensor1D;
