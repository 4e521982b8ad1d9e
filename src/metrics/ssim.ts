/**
 * SSIM (Wang et al. 2004) on 8-bit images: Gaussian window 11x11 with sigma 1.5, K1 = 0.01,
 * K2 = 0.03, L = 255, 'valid' window positions, mean over positions and channels per image, then over
 * images. Images smaller than 11 pixels use the largest odd window that fits (same sigma).
 */
import * as tf from '@tensorflow/tfjs';

const gaussianWindow = (size: number, sigma: number): tf.Tensor4D => {
  const half = (size - 1) / 2;
  const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  const sum = g.reduce((a, b) => a + b, 0);
  const w = new Float32Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) w[i * size + j] = ((g[i] as number) * (g[j] as number)) / (sum * sum);
  return tf.tensor4d(w, [size, size, 1, 1]);
};

export const ssim = (a: tf.Tensor4D, b: tf.Tensor4D): number =>
  tf.tidy(() => {
    const [n, h, w, c] = a.shape;
    const size = Math.min(11, h - ((h + 1) % 2), w - ((w + 1) % 2));
    const window = gaussianWindow(size, 1.5);
    // Channels as separate single-channel images: [n*c, h, w, 1].
    const split = (x: tf.Tensor4D): tf.Tensor4D => tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [n * c, h, w, 1]);
    const x = split(a);
    const y = split(b);
    const blur = (t: tf.Tensor4D): tf.Tensor4D => tf.conv2d(t, window, 1, 'valid');
    const mx = blur(x);
    const my = blur(y);
    const sxx = tf.sub(blur(tf.mul(x, x)), tf.mul(mx, mx));
    const syy = tf.sub(blur(tf.mul(y, y)), tf.mul(my, my));
    const sxy = tf.sub(blur(tf.mul(x, y)), tf.mul(mx, my));
    const c1 = (0.01 * 255) ** 2;
    const c2 = (0.03 * 255) ** 2;
    const num = tf.mul(tf.add(tf.mul(tf.mul(mx, my), 2), c1), tf.add(tf.mul(sxy, 2), c2));
    const den = tf.mul(tf.add(tf.add(tf.square(mx), tf.square(my)), c1), tf.add(tf.add(sxx, syy), c2));
    return tf.mean(tf.div(num, den)).dataSync()[0] as number;
  });
