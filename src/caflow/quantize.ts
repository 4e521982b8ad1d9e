/**
 * 8-bit data to continuous values and back. Uniform dequantisation x + u, u ~ U(0,1), for training and
 * for the held-out NLL (its mean over u bounds the discrete NLL; src/experiments/evaluate.ts);
 * u = 0.5 (deterministic, mid-bin) for conditions, exact integer round trips and the labelled
 * mid-bin NLL, which is no bound; `quantize` floors and clips.
 */
import * as tf from '@tensorflow/tfjs';

/** 8-bit pixels (NHWC) to continuous values: + u, u ~ U(0,1) seeded ('uniform') or u = 0.5 ('center'). */
export const dequantize = (pixels: tf.Tensor4D, mode: 'uniform' | 'center', seed?: number): tf.Tensor4D =>
  tf.tidy(() =>
    mode === 'center' ? tf.add(pixels, 0.5) : tf.add(pixels, tf.randomUniform(pixels.shape, 0, 1, 'float32', seed)),
  ) as tf.Tensor4D;

/** Continuous values back to integer levels: floored and clipped to [0, levels - 1]. */
export const quantize = (x: tf.Tensor4D, levels = 256): tf.Tensor4D =>
  tf.tidy(() => tf.clipByValue(tf.floor(x), 0, levels - 1)) as tf.Tensor4D;
