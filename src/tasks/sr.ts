/**
 * Super-resolution x4 (docs/caflow.md §4): Y is W bicubic-downscaled by 4 (antialiased), stored as
 * 8-bit (rounded and clipped, as a saved low-resolution image would be), then bicubic-upscaled back
 * to full size and rounded and clipped again. H and W must be multiples of 4.
 */
import * as tf from '@tensorflow/tfjs';
import { bicubicResize, to8bit } from './resize.js';
import type { Task } from './task.js';

export const SR_FACTOR = 4;

export const superResolution: Task = {
  name: 'sr',
  description: 'super-resolution x4: Y is W bicubic-downscaled by 4 (8-bit) and bicubic-upscaled back to full size',
  makeCondition: (w) =>
    tf.tidy(() => {
      const [, h, wd] = w.shape;
      if (h % SR_FACTOR !== 0 || wd % SR_FACTOR !== 0)
        throw new RangeError(`sr: image height and width must be multiples of ${SR_FACTOR}, got ${h}x${wd}`);
      const low = to8bit(bicubicResize(w, h / SR_FACTOR, wd / SR_FACTOR));
      return to8bit(bicubicResize(low, h, wd));
    }),
  conditionChannels: (c) => c,
};
