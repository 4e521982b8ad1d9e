/**
 * Inpainting (docs/caflow.md §4, §6): pixels of W set to 0 in
 * - 'inpaint-center': a central square of side floor(sqrt(0.15 H W)) (about 15% of the area; 12x12
 *   of 32x32 = 14.1%, and 24x24 of 64x64 as in the reference code), starting at row floor((H - side)/2)
 *   and column floor((W - side)/2);
 * - 'inpaint-right': the right half, columns floor(W/2) .. W-1 (for odd W the middle column too).
 */
import * as tf from '@tensorflow/tfjs';
import { to8bit } from './resize.js';
import type { Task } from './task.js';

/** Side of the central square for an H x W image. */
export const centerSide = (h: number, w: number): number => Math.max(1, Math.min(h, w, Math.floor(Math.sqrt(0.15 * h * w))));

/** 1 where pixels are kept, 0 where masked; [1, H, W, 1]. */
export const centerMask = (h: number, w: number): tf.Tensor4D => {
  const side = centerSide(h, w);
  const top = Math.floor((h - side) / 2);
  const left = Math.floor((w - side) / 2);
  const m = new Float32Array(h * w).fill(1);
  for (let r = top; r < top + side; r++) m.fill(0, r * w + left, r * w + left + side);
  return tf.tensor4d(m, [1, h, w, 1]);
};

/** 1 on the left half (columns < floor(W/2)), 0 on the right; [1, H, W, 1]. */
export const rightHalfMask = (h: number, w: number): tf.Tensor4D => {
  const m = new Float32Array(h * w);
  for (let r = 0; r < h; r++) m.fill(1, r * w, r * w + Math.floor(w / 2));
  return tf.tensor4d(m, [1, h, w, 1]);
};

const masked = (name: string, description: string, mask: (h: number, w: number) => tf.Tensor4D): Task => ({
  name,
  description,
  makeCondition: (w) => tf.tidy(() => to8bit(tf.mul(w, mask(w.shape[1], w.shape[2])))),
  conditionChannels: (c) => c,
});

export const inpaintCenter = masked('inpaint-center', 'inpainting: a central square of ~15% of the area set to 0', centerMask);
export const inpaintRight = masked('inpaint-right', 'inpainting: the right half set to 0', rightHalfMask);
