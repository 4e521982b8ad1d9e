/** Super-resolution x4 (caflow-spec §4): bicubic down by 4, then bicubic up to full size. */
import * as tf from '@tensorflow/tfjs';
import { bicubicResize, to8bit } from './resize.js';
import type { Task } from './task.js';

export const superResolution: Task = {
  name: 'sr',
  description: 'super-resolution x4: Y is W bicubic-downscaled by 4 (8-bit) and bicubic-upscaled back',
  makeCondition: (w) =>
    tf.tidy(() => {
      const [, h, wd] = w.shape;
      const low = to8bit(bicubicResize(w, h / 4, wd / 4));
      return to8bit(bicubicResize(low, h, wd));
    }),
  conditionChannels: (c) => c,
};
