/**
 * The few tensor ops the layers are built from. Every layer calls these rather than tf directly, so a
 * faster implementation replaces them in one place without touching any spec.
 *
 * `conv2dSame` runs conv + bias (+ ReLU) as one fused kernel and carries its own gradient
 * (src/layers/conv-gradients.ts), built from a forward convolution (input gradient) and per-tap
 * products or one batch/channel-swapped convolution (filter gradient): the wasm backend has no
 * Conv2DBackpropFilter kernel at all, and the cpu backend's is very slow, while forward convolutions
 * and matMul are fast on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { convFilterGradient, convInputGradient, samePadding } from './conv-gradients.js';

/**
 * conv + bias (+ ReLU) as one fused forward kernel (on wasm, XNNPACK adds the bias and clamps in the
 * convolution's epilogue), with the gradient written out: dPre = dy (times step(y) after a ReLU:
 * y > 0 exactly where the pre-activation is), dBias = dPre summed over N, H, W, and dx, dK from
 * conv-gradients.ts. One kernel instead of three forward, and no Add or Relu gradient backward.
 */
const fusedAttrs = {
  linear: { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], activation: 'linear' },
  relu: { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], activation: 'relu' },
} as const;

const fusedConvSame = (activation: 'linear' | 'relu') =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor4D;
    const kernel = args[1] as tf.Tensor4D;
    const bias = args[2] as tf.Tensor1D;
    const save = args[3] as tf.GradSaveFunc;
    // The kernel itself: tf.fused.conv2d would run conv, add and relu separately while a gradient is
    // being recorded, and this custom gradient makes that unnecessary.
    const value = tf.engine().runKernel(tf.FusedConv2D, { x, filter: kernel, bias }, fusedAttrs[activation]) as tf.Tensor4D;
    save(activation === 'relu' ? [x, kernel, value] : [x, kernel]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sk, sy] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D | undefined];
        const dPre = (sy === undefined ? dy : tf.mul(dy, tf.step(sy))) as tf.Tensor4D;
        const pad = samePadding(sk.shape[0]);
        return [convInputGradient(dPre, sk, pad), convFilterGradient(sx, dPre, sk.shape, pad), tf.sum(dPre, [0, 1, 2])];
      },
    };
  }) as (x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D) => tf.Tensor4D;

const convSameLinear = fusedConvSame('linear');
const convSameRelu = fusedConvSame('relu');

/**
 * 'same'-padded stride-1 convolution plus bias, NHWC, optionally followed by a ReLU.
 * kernel: [k, k, cIn, cOut] with k odd; bias: [cOut].
 */
export const conv2dSame = (x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D, activation: 'linear' | 'relu' = 'linear'): tf.Tensor4D =>
  activation === 'relu' ? convSameRelu(x, kernel, bias) : convSameLinear(x, kernel, bias);

/** Per-sample sum over every axis but the batch axis. */
export const sumPerSample = (x: tf.Tensor): tf.Tensor1D =>
  (x.rank === 1 ? x : tf.sum(x, Array.from({ length: x.rank - 1 }, (_, i) => i + 1))) as tf.Tensor1D;
