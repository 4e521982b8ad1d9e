/**
 * Colorization: Y is the luma of an RGB W, Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), rounded
 * (half to even, as tf.round) and clipped to 0..255; one channel. W must have 3 channels.
 */
import * as tf from '@tensorflow/tfjs';
import { to8bit } from './resize.js';
import type { Task } from './task.js';

export const LUMA = [0.299, 0.587, 0.114] as const;

/** BT.601 luma of NHWC RGB images, unrounded; [N, H, W, 1]. */
export const luma = (rgb: tf.Tensor4D): tf.Tensor4D => tf.tidy(() => tf.sum(tf.mul(rgb, tf.tensor1d([...LUMA])), 3, true) as tf.Tensor4D);

export const colorize: Task = {
  name: 'colorize',
  description: 'colorization: Y is the grey level (BT.601 luma) of the colour image W',
  makeCondition: (w) => {
    if (w.shape[3] !== 3) throw new RangeError(`colorize needs RGB targets (3 channels), got ${w.shape[3]} channel(s)`);
    return tf.tidy(() => to8bit(luma(w)));
  },
  conditionChannels: (c) => {
    if (c !== 3) throw new RangeError(`colorize needs RGB targets (3 channels), got ${c} channel(s)`);
    return 1;
  },
};
