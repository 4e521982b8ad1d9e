/** Kernel of `permute` (maths in src/dsl/bijectors/permute.ts). */
import * as tf from '@tensorflow/tfjs';
import type { PermuteSpec } from '../../dsl/spec.js';
import { zeroLogDet } from './common.js';
import type { Kernel } from './kernel.js';

const inversePermutation = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
};

export const permuteKernel: Kernel<PermuteSpec> = {
  paramShapes: () => ({}),
  init: () => ({}),
  forward: ({ perm }, _p, x) => ({ out: tf.gather(x, [...perm], 3), logDet: zeroLogDet(x.shape[0]) }),
  inverse: ({ perm }, _p, y) => ({ out: tf.gather(y, inversePermutation(perm), 3), logDet: zeroLogDet(y.shape[0]) }),
};
