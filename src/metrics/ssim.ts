/**
 * SSIM (Wang, Bovik, Sheikh & Simoncelli 2004) on 8-bit NHWC images. For every 'valid' position of a
 * Gaussian window (11x11, sigma 1.5, weights normalised to sum 1) and every channel, with window-
 * weighted means mu, variances sigma^2 and covariance sigma_ab,
 *
 *   SSIM = (2 mu_a mu_b + C1)(2 sigma_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(sigma_a^2 + sigma_b^2 + C2)),
 *   C1 = (K1 L)^2, C2 = (K2 L)^2, K1 = 0.01, K2 = 0.03, L = 255,
 *
 * averaged over positions and channels per image, then over images (the same as the mean over all,
 * since every image has the same number of positions). Images smaller than 11 pixels in height or
 * width use the largest odd window that fits, min(11, largest odd <= H, largest odd <= W), with the
 * same sigma 1.5; a 1x1 window reduces SSIM to its luminance-contrast term per pixel.
 */
import * as tf from '@tensorflow/tfjs';
import { assertSameShape } from './pixel.js';

export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;

const largestOdd = (n: number): number => (n % 2 === 1 ? n : n - 1);

/** The window side used for H x W images. */
export const ssimWindowSize = (h: number, w: number): number => Math.min(SSIM_WINDOW, largestOdd(h), largestOdd(w));

const gaussianWindow = (size: number, sigma: number): tf.Tensor4D => {
  const half = (size - 1) / 2;
  const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  const sum = g.reduce((a, b) => a + b, 0);
  const w = new Float32Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) w[i * size + j] = ((g[i] as number) * (g[j] as number)) / (sum * sum);
  return tf.tensor4d(w, [size, size, 1, 1]);
};

/** Mean SSIM of a against b (0-255 values); 1 for identical images. */
export const ssim = (a: tf.Tensor4D, b: tf.Tensor4D): number => {
  assertSameShape('ssim', a, b);
  const t = tf.tidy(() => {
    const [n, h, w, c] = a.shape;
    const window = gaussianWindow(ssimWindowSize(h, w), SSIM_SIGMA);
    // Channels as separate single-channel images: [n*c, h, w, 1].
    const split = (x: tf.Tensor4D): tf.Tensor4D => tf.reshape(tf.transpose(tf.cast(x, 'float32'), [0, 3, 1, 2]), [n * c, h, w, 1]);
    const x = split(a);
    const y = split(b);
    const blur = (v: tf.Tensor4D): tf.Tensor4D => tf.conv2d(v, window, 1, 'valid');
    const mx = blur(x);
    const my = blur(y);
    const sxx = tf.sub(blur(tf.mul(x, x)), tf.mul(mx, mx));
    const syy = tf.sub(blur(tf.mul(y, y)), tf.mul(my, my));
    const sxy = tf.sub(blur(tf.mul(x, y)), tf.mul(mx, my));
    const c1 = (0.01 * 255) ** 2;
    const c2 = (0.03 * 255) ** 2;
    const num = tf.mul(tf.add(tf.mul(tf.mul(mx, my), 2), c1), tf.add(tf.mul(sxy, 2), c2));
    const den = tf.mul(tf.add(tf.add(tf.square(mx), tf.square(my)), c1), tf.add(tf.add(sxx, syy), c2));
    return tf.mean(tf.div(num, den));
  });
  const value = t.dataSync()[0] as number;
  t.dispose();
  return value;
};
