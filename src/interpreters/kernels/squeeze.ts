/**
 * Kernels of `squeeze` and `unsqueeze` (maths in src/dsl/bijectors/squeeze.ts).
 * NHWC [N,H,W,C] -> [N,H/2,2,W/2,2,C] -> [N,H/2,W/2,C,2,2] -> [N,H/2,W/2,4C]: channel c*4 + 2dy + dx.
 */
import * as tf from '@tensorflow/tfjs';
import type { SqueezeSpec, UnsqueezeSpec } from '../../dsl/spec.js';
import { zeroLogDet } from './common.js';
import type { Kernel } from './kernel.js';

export const spaceToDepth = (x: tf.Tensor4D): tf.Tensor4D => {
  const [n, h, w, c] = x.shape;
  const blocks = tf.reshape(x, [n, h / 2, 2, w / 2, 2, c]);
  return tf.reshape(tf.transpose(blocks, [0, 1, 3, 5, 2, 4]), [n, h / 2, w / 2, 4 * c]);
};

export const depthToSpace = (y: tf.Tensor4D): tf.Tensor4D => {
  const [n, h, w, c4] = y.shape;
  const blocks = tf.reshape(y, [n, h, w, c4 / 4, 2, 2]);
  return tf.reshape(tf.transpose(blocks, [0, 1, 4, 2, 5, 3]), [n, 2 * h, 2 * w, c4 / 4]);
};

export const squeezeKernel: Kernel<SqueezeSpec> = {
  paramShapes: () => ({}),
  init: () => ({}),
  forward: (_spec, _p, x) => ({ out: spaceToDepth(x), logDet: zeroLogDet(x.shape[0]) }),
  inverse: (_spec, _p, y) => ({ out: depthToSpace(y), logDet: zeroLogDet(y.shape[0]) }),
};

export const unsqueezeKernel: Kernel<UnsqueezeSpec> = {
  paramShapes: () => ({}),
  init: () => ({}),
  forward: (_spec, _p, x) => ({ out: depthToSpace(x), logDet: zeroLogDet(x.shape[0]) }),
  inverse: (_spec, _p, y) => ({ out: spaceToDepth(y), logDet: zeroLogDet(y.shape[0]) }),
};
