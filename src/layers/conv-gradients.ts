/**
 * The two gradients of a stride-1 NHWC convolution, built from fast primitives (forward convolution,
 * transpose, matMul) so they are quick on every backend: wasm has no Conv2DBackpropFilter kernel and
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

/**
 * dK[a, b, i, o] = sum_{n,y,x} xpad[n, y+a, x+b, i] dy[n, y, x, o]: the k*k shifted copies of the padded
 * input side by side (im2col), then one matMul. The patches are transposed explicitly: on wasm a matMul
 * with transposeA is 6-12x slower than a transpose followed by a plain matMul at these shapes.
 */
export const convFilterGradient = (x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: readonly [number, number, number, number], p: ConvPadding): tf.Tensor4D =>
  tf.tidy(() => {
    const [kh, kw, cIn, cOut] = filterShape;
    const [n, outH, outW] = dy.shape;
    const rows = n * outH * outW;
    const padded = p.top + p.bottom + p.left + p.right === 0 ? x : tf.pad(x, [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]]);
    const shifts: tf.Tensor4D[] = [];
    for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) shifts.push(tf.slice(padded, [0, a, b, 0], [n, outH, outW, cIn]));
    const patches = tf.reshape(shifts.length === 1 ? (shifts[0] as tf.Tensor4D) : tf.concat(shifts, 3), [rows, kh * kw * cIn]);
    return tf.reshape(tf.matMul(tf.transpose(patches), tf.reshape(dy, [rows, cOut])), [kh, kw, cIn, cOut]);
  });

/**
 * dx = conv(dy, K rotated 180 degrees with in/out swapped), padded so every input pixel meets each
 * kernel tap that read it: kernel size - 1 - forward padding on each side.
 */
export const convInputGradient = (dy: tf.Tensor4D, filter: tf.Tensor4D, p: ConvPadding): tf.Tensor4D =>
  tf.tidy(() => {
    const [kh, kw] = filter.shape;
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    const pad: tf.backend_util.ExplicitPadding = [[0, 0], [kh - 1 - p.top, kh - 1 - p.bottom], [kw - 1 - p.left, kw - 1 - p.right], [0, 0]];
    return tf.conv2d(dy, flipped, 1, pad);
  });
