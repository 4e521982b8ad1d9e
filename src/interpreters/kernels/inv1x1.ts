/** Kernel of `inv1x1` (maths in src/dsl/bijectors/inv1x1.ts). */
import * as tf from '@tensorflow/tfjs';
import type { Inv1x1Spec } from '../../dsl/spec.js';
import { randomOrthogonal } from '../linalg.js';
import { inverseMatrix, logAbsDet, mixChannels } from './channel-mix.js';
import { param, perSample } from './common.js';
import type { Kernel } from './kernel.js';

export const inv1x1Kernel: Kernel<Inv1x1Spec> = {
  paramShapes: ({ shape: [c] }) => ({ weight: [c, c] }),
  init: ({ shape: [c] }, { random }) => ({ weight: tf.tensor2d(Float32Array.from(randomOrthogonal(c, random)), [c, c]) }),
  forward: ({ shape: [, h, w] }, p, x) => {
    const weight = param<tf.Tensor2D>(p, 'weight');
    return { out: mixChannels(x, weight), logDet: perSample(x.shape[0], tf.mul(logAbsDet(weight), h * w)) };
  },
  inverse: ({ shape: [, h, w] }, p, y) => {
    const weight = param<tf.Tensor2D>(p, 'weight');
    return {
      out: mixChannels(y, inverseMatrix(weight)),
      logDet: perSample(y.shape[0], tf.mul(logAbsDet(weight), -h * w)),
    };
  },
};
