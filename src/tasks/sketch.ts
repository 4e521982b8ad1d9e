/** Sketch-to-image: Y is the edge map of W (Sobel gradient magnitude of its grey level, thresholded). */
import * as tf from '@tensorflow/tfjs';
import type { Task } from './task.js';

/** Gradient magnitude above this (on 0-255 data; Sobel's maximum is about 1,140) is an edge. */
export const EDGE_THRESHOLD = 160;

export const sobelMagnitude = (grey: tf.Tensor4D): tf.Tensor4D =>
  tf.tidy(() => {
    const gx = tf.tensor4d([-1, 0, 1, -2, 0, 2, -1, 0, 1], [3, 3, 1, 1]);
    const gy = tf.tensor4d([-1, -2, -1, 0, 0, 0, 1, 2, 1], [3, 3, 1, 1]);
    return tf.sqrt(tf.add(tf.square(tf.conv2d(grey, gx, 1, 'same')), tf.square(tf.conv2d(grey, gy, 1, 'same')))) as tf.Tensor4D;
  });

export const sketch: Task = {
  name: 'sketch',
  description: 'sketch-to-image: Y is the thresholded Sobel edge map of W (edges 255, else 0)',
  makeCondition: (w) =>
    tf.tidy(() => {
      const grey = tf.mean(w, 3, true) as tf.Tensor4D;
      return tf.mul(tf.cast(tf.greater(sobelMagnitude(grey), EDGE_THRESHOLD), 'float32'), 255) as tf.Tensor4D;
    }),
  conditionChannels: () => 1,
};
