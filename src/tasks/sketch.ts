/**
 * Sketch-to-image: Y is the edge map of W. The grey level g of W (W itself for one channel, BT.601
 * luma for RGB) is mirrored by one pixel at the border and filtered with the 3x3 Sobel kernels,
 * |∇g| = sqrt(Gx² + Gy²) with Gx = [[-1,0,1],[-2,0,2],[-1,0,1]] * g and Gy its transpose; pixels with
 * |∇g| > EDGE_THRESHOLD are 255, the rest 0. One channel.
 */
import * as tf from '@tensorflow/tfjs';
import { luma } from './colorize.js';
import { to8bit } from './resize.js';
import type { Task } from './task.js';

/**
 * Gradient magnitude above this is an edge. On 0-255 data a sharp step of height s gives |∇g| = 4s on
 * both sides of it (at most 1,020), so this marks steps of more than 120 grey levels. On MNIST it
 * draws the outline of each stroke (lower thresholds fill thin strokes in, giving a fattened digit).
 */
export const EDGE_THRESHOLD = 480;

/** Sobel gradient magnitude of single-channel images, [N, H, W, 1], with mirrored borders. */
export const sobelMagnitude = (grey: tf.Tensor4D): tf.Tensor4D =>
  tf.tidy(() => {
    const gx = tf.tensor4d([-1, 0, 1, -2, 0, 2, -1, 0, 1], [3, 3, 1, 1]);
    const gy = tf.tensor4d([-1, -2, -1, 0, 0, 0, 1, 2, 1], [3, 3, 1, 1]);
    const padded = tf.mirrorPad(grey, [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric');
    return tf.sqrt(tf.add(tf.square(tf.conv2d(padded, gx, 1, 'valid')), tf.square(tf.conv2d(padded, gy, 1, 'valid')))) as tf.Tensor4D;
  });

export const sketch: Task = {
  name: 'sketch',
  description: 'sketch-to-image: Y is the thresholded Sobel edge map of W (edges 255, else 0)',
  makeCondition: (w) =>
    tf.tidy(() => {
      const c = w.shape[3];
      if (c !== 1 && c !== 3) throw new RangeError(`sketch needs 1- or 3-channel targets, got ${c}`);
      const grey = c === 3 ? luma(w) : w;
      return to8bit(tf.mul(tf.cast(tf.greater(sobelMagnitude(grey), EDGE_THRESHOLD), 'float32'), 255) as tf.Tensor4D);
    }),
  conditionChannels: () => 1,
};
