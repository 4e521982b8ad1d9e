/**
 * Per-image pixel metrics on 8-bit NHWC images, averaged over images (caflow-spec §6):
 * RMSE = sqrt(mean over C*H*W of (a - b)^2) on the 0-255 scale;
 * PSNR = 10 log10(1 / MSE) with pixels on the [0, 1] scale (identical images count as 100 dB).
 */
import * as tf from '@tensorflow/tfjs';

const perImageMse = (a: tf.Tensor4D, b: tf.Tensor4D): Float32Array =>
  tf.tidy(() => tf.mean(tf.square(tf.sub(a, b)), [1, 2, 3]).dataSync() as Float32Array);

const mean = (xs: ArrayLike<number>): number => Array.from(xs).reduce((s, x) => s + x, 0) / xs.length;

export const rmse = (a: tf.Tensor4D, b: tf.Tensor4D): number => mean(Array.from(perImageMse(a, b), Math.sqrt));

export const PSNR_OF_IDENTICAL = 100;

export const psnr = (a: tf.Tensor4D, b: tf.Tensor4D): number =>
  mean(Array.from(perImageMse(a, b), (mse) => (mse === 0 ? PSNR_OF_IDENTICAL : Math.min(PSNR_OF_IDENTICAL, 10 * Math.log10((255 * 255) / mse)))));

/**
 * Diversity of samples: rows b*k .. b*k+k-1 are the k samples of condition b; the mean RMSE (0-255)
 * over all pairs of samples of a condition, averaged over conditions.
 */
export const diversity = (samples: tf.Tensor4D, k: number): number => {
  if (k < 2) return 0;
  const [rows, h, w, c] = samples.shape;
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
