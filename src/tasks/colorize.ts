/** Colorization: Y is the luma of an RGB W, Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), rounded. */
import * as tf from '@tensorflow/tfjs';
import type { Task } from './task.js';

export const colorize: Task = {
  name: 'colorize',
  description: 'colorization: Y is the grey level (BT.601 luma) of the colour image W',
  makeCondition: (w) =>
    tf.tidy(() => {
      if (w.shape[3] !== 3) throw new RangeError(`colorize needs RGB targets, got ${w.shape[3]} channel(s)`);
      return tf.round(tf.sum(tf.mul(w, tf.tensor1d([0.299, 0.587, 0.114])), 3, true)) as tf.Tensor4D;
    }),
  conditionChannels: () => 1,
};
