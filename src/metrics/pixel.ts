/**
 * Per-image pixel metrics on 8-bit NHWC images (docs/caflow.md §6), computed per image and then averaged
 * over the N images; all return plain numbers and leave no tensors behind.
 *
 *   MSE_n  = mean over C*H*W of (a - b)^2                      (0-255 scale)
 *   RMSE   = mean_n sqrt(MSE_n)                                (0-255 scale)
 *   PSNR   = mean_n 10 log10(1 / (MSE_n / 255^2))              (pixels on the [0, 1] scale, in dB)
 *            = mean_n 10 log10(255^2 / MSE_n); an image identical to its reference (MSE_n = 0) counts
 *            as PSNR_OF_IDENTICAL = 100 dB instead of +Infinity, and no image scores above that.
 *   diversity(samples, k) = mean over conditions of the mean over the k(k-1)/2 pairs (i < j) of the
 *            k samples of that condition of RMSE(sample_i, sample_j)   (0-255 scale)
 */
import * as tf from '@tensorflow/tfjs';

export const PSNR_OF_IDENTICAL = 100;

export const assertSameShape = (what: string, a: tf.Tensor4D, b: tf.Tensor4D): void => {
  if (a.shape.length !== 4 || a.shape.some((d, i) => d !== b.shape[i]))
    throw new RangeError(`${what}: images must have the same NHWC shape, got [${a.shape.join(',')}] and [${b.shape.join(',')}]`);
  if (a.shape[0] === 0) throw new RangeError(`${what}: no images`);
};

const perImageMse = (a: tf.Tensor4D, b: tf.Tensor4D): Float32Array => {
  const t = tf.tidy(() => tf.mean(tf.square(tf.sub(tf.cast(a, 'float32'), tf.cast(b, 'float32'))), [1, 2, 3]));
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
};

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Mean over images of the per-image RMSE on the 0-255 scale. */
export const rmse = (a: tf.Tensor4D, b: tf.Tensor4D): number => {
  assertSameShape('rmse', a, b);
  return mean(Array.from(perImageMse(a, b), Math.sqrt));
};

/** Mean over images of the per-image PSNR in dB with pixels on [0, 1]; identical images count as 100 dB. */
export const psnr = (a: tf.Tensor4D, b: tf.Tensor4D): number => {
  assertSameShape('psnr', a, b);
  return mean(Array.from(perImageMse(a, b), (mse) => (mse === 0 ? PSNR_OF_IDENTICAL : Math.min(PSNR_OF_IDENTICAL, 10 * Math.log10((255 * 255) / mse)))));
};

/**
 * Diversity of samples [B*k, H, W, C]: rows b*k .. b*k+k-1 are the k samples of condition b. The mean
 * pairwise RMSE (0-255) within each condition, averaged over conditions; 0 when k < 2.
 */
export const diversity = (samples: tf.Tensor4D, k: number): number => {
  const [rows, h, w, c] = samples.shape;
  if (!Number.isInteger(k) || k < 1 || rows % k !== 0)
    throw new RangeError(`diversity: k must be a positive integer dividing the ${rows} samples, got ${k}`);
  if (k < 2 || rows === 0) return 0;
  const data = samples.dataSync();
  const size = h * w * c;
  let total = 0;
  let pairs = 0;
  for (let b = 0; b < rows / k; b++)
    for (let i = 0; i < k; i++)
      for (let j = i + 1; j < k; j++) {
        let sq = 0;
        const p = (b * k + i) * size;
        const q = (b * k + j) * size;
        for (let e = 0; e < size; e++) sq += ((data[p + e] as number) - (data[q + e] as number)) ** 2;
        total += Math.sqrt(sq / size);
        pairs += 1;
      }
  return total / pairs;
};
