/**
 * The two gradients of a stride-1 NHWC convolution, built from fast primitives (forward convolution,
 * transpose, slice, matMul) so they are quick on every backend: wasm has no Conv2DBackpropFilter kernel and
 * a slow Conv2DBackpropInput, and the cpu backend's are slow too (docs/performance.md). Used by
 * `conv2dSame`'s custom gradient and by the kernels registered for wasm (src/backend).
 */
import * as tf from '@tensorflow/tfjs';

/** Zero padding of the forward convolution on each side. */
export interface ConvPadding {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

export const samePadding = (k: number): ConvPadding => {
  const p = (k - 1) / 2;
  return { top: p, bottom: p, left: p, right: p };
};

type FilterShape = readonly [number, number, number, number];

const padInput = (x: tf.Tensor4D, p: ConvPadding): tf.Tensor4D =>
  p.top + p.bottom + p.left + p.right === 0 ? x : tf.pad(x, [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]]);

/**
 * dK[a, b, i, o] = sum_{n,y,x} xpad[n, y+a, x+b, i] dy[n, y, x, o] as one product per kernel tap: the
 * padded input is transposed once to [cIn, N, H, W], so each tap's shifted window is a slice that
 * reshapes to [cIn, N*outH*outW] and multiplies dy as [N*outH*outW, cOut]. Best for few input channels.
 */
export const filterGradientPerTap = (x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: FilterShape, p: ConvPadding): tf.Tensor4D =>
  tf.tidy(() => {
    const [kh, kw, cIn, cOut] = filterShape;
    const [n, outH, outW] = dy.shape;
    const rows = n * outH * outW;
    const channelsFirst = tf.transpose(padInput(x, p), [3, 0, 1, 2]);
    const dyRows = tf.reshape(dy, [rows, cOut]);
    const taps: tf.Tensor2D[] = [];
    for (let a = 0; a < kh; a++)
      for (let b = 0; b < kw; b++) taps.push(tf.matMul(tf.reshape(tf.slice(channelsFirst, [0, 0, a, b], [cIn, n, outH, outW]), [cIn, rows]), dyRows));
    return tf.reshape(taps.length === 1 ? (taps[0] as tf.Tensor2D) : tf.stack(taps), [kh, kw, cIn, cOut]);
  });

/**
 * The same sum as one 'valid' forward convolution with batch and channels swapped: input
 * xpad as [cIn, Hp, Wp, N] (cIn images of N channels), filter dy as [outH, outW, N, cOut]; its
 * [cIn, kh, kw, cOut] output is dK transposed. The convolution kernel does the windowing in native
 * code, which beats slicing once there are many input channels.
 */
export const filterGradientByConv = (x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: FilterShape, p: ConvPadding): tf.Tensor4D =>
  tf.tidy(() => {
    const images = tf.transpose(padInput(x, p), [3, 1, 2, 0]);
    const filter = tf.transpose(dy, [1, 2, 0, 3]);
    return tf.reshape(tf.transpose(tf.conv2d(images, filter, 1, 'valid'), [1, 2, 0, 3]), [...filterShape]);
  });

/**
 * For a 1x1 kernel without padding the sum needs no windows at all: dK = x^T dy over the pixels, one
 * product of [N*H*W, cIn]^T and [N*H*W, cOut]. On wasm 2-2.3x faster than the batch/channel-swapped
 * convolution, whose "kernel" would be the whole image (e.g. 0.43 vs 0.85 ms at 8x16x16x32 -> 32).
 */
export const filterGradient1x1 = (x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D =>
  tf.tidy(() => {
    const [n, h, w, cIn] = x.shape;
    const cOut = dy.shape[3];
    return tf.reshape(tf.matMul(tf.reshape(x, [n * h * w, cIn]), tf.reshape(dy, [n * h * w, cOut]), true, false), [1, 1, cIn, cOut]);
  });

const unpadded = (p: ConvPadding): boolean => p.top + p.bottom + p.left + p.right === 0;

/**
 * From this many input channels on, `filterGradientByConv` is used. Measured on wasm (ms per call,
 * per-tap vs by-conv): cIn 6: 4.99 vs 7.68 (16x16x16->128), 3.15 vs 4.24 (8x32x32->32); cIn 24-216:
 * 1.5-34.7 vs 0.6-11.6, 2.6-5.4x in favour of the convolution.
 */
export const FILTER_GRADIENT_CONV_FROM_CHANNELS = 16;

/** dK for a stride-1 NHWC convolution with padding p; every route computes the same sum. */
export const convFilterGradient = (x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: FilterShape, p: ConvPadding): tf.Tensor4D =>
  filterShape[0] === 1 && filterShape[1] === 1 && unpadded(p)
    ? filterGradient1x1(x, dy)
    : filterShape[2] >= FILTER_GRADIENT_CONV_FROM_CHANNELS
      ? filterGradientByConv(x, dy, filterShape, p)
      : filterGradientPerTap(x, dy, filterShape, p);

/**
 * K rotated by 180 degrees in its two spatial axes, as one product with the k*k anti-diagonal
 * permutation matrix (exact for finite weights: each entry is one weight times 1 plus zeros). On wasm `tf.reverse` of a
 * 3x3x216x32 kernel took 1.9 ms and this product 0.16 ms, 10x less at every coupling-net shape.
 */
export const rotate180 = (filter: tf.Tensor4D): tf.Tensor4D =>
  tf.tidy(() => {
    const [kh, kw, cIn, cOut] = filter.shape;
    const taps = kh * kw;
    if (taps === 1) return filter.clone();
    const antiDiagonal = new Float32Array(taps * taps);
    for (let i = 0; i < taps; i++) antiDiagonal[i * taps + (taps - 1 - i)] = 1;
    return tf.reshape(tf.matMul(tf.tensor2d(antiDiagonal, [taps, taps]), tf.reshape(filter, [taps, cIn * cOut])), [kh, kw, cIn, cOut]);
  });

/**
 * dx = conv(dy, K rotated 180 degrees with in/out swapped), padded so every input pixel meets each
 * kernel tap that read it: kernel size - 1 - forward padding on each side.
 */
export const convInputGradient = (dy: tf.Tensor4D, filter: tf.Tensor4D, p: ConvPadding): tf.Tensor4D =>
  tf.tidy(() => {
    const [kh, kw] = filter.shape;
    const flipped = tf.transpose(rotate180(filter), [0, 1, 3, 2]);
    const pad: tf.backend_util.ExplicitPadding = [[0, 0], [kh - 1 - p.top, kh - 1 - p.bottom], [kw - 1 - p.left, kw - 1 - p.right], [0, 0]];
    return tf.conv2d(dy, flipped, 1, pad);
  });
