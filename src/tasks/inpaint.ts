/**
 * Inpainting (caflow-spec §4): a central square covering about 15% of the area, or the right half,
 * set to 0.
 */
import * as tf from '@tensorflow/tfjs';
import type { Task } from './task.js';

/** 1 where pixels are kept, 0 where masked; [1, H, W, 1]. */
export const centerMask = (h: number, w: number): tf.Tensor4D => {
  const side = Math.round(Math.sqrt(0.15 * h * w));
  const top = Math.floor((h - side) / 2);
  const left = Math.floor((w - side) / 2);
  const m = new Float32Array(h * w).fill(1);
  for (let r = top; r < top + side; r++) for (let c = left; c < left + side; c++) m[r * w + c] = 0;
  return tf.tensor4d(m, [1, h, w, 1]);
};

export const rightHalfMask = (h: number, w: number): tf.Tensor4D => {
  const m = new Float32Array(h * w);
  for (let r = 0; r < h; r++) for (let c = 0; c < Math.floor(w / 2); c++) m[r * w + c] = 1;
  return tf.tensor4d(m, [1, h, w, 1]);
};

const masked = (name: string, description: string, mask: (h: number, w: number) => tf.Tensor4D): Task => ({
  name,
  description,
  makeCondition: (w) => tf.tidy(() => tf.mul(w, mask(w.shape[1], w.shape[2])) as tf.Tensor4D),
  conditionChannels: (c) => c,
});

export const inpaintCenter = masked('inpaint-center', 'inpainting: a central square of ~15% of the area set to 0', centerMask);
export const inpaintRight = masked('inpaint-right', 'inpainting: the right half set to 0', rightHalfMask);
