/** Kernel of `affine` (maths in src/dsl/bijectors/affine.ts). Params are NHWC-shaped [H, W, C]. */
import * as tf from '@tensorflow/tfjs';
import type { AffineSpec } from '../../dsl/spec.js';
import { param, perSample } from './common.js';
import type { Kernel } from './kernel.js';

const eventShape = ({ shape: [c, h, w] }: AffineSpec): [number, number, number] => [h, w, c];

export const affineKernel: Kernel<AffineSpec> = {
  paramShapes: (spec) => ({ logScale: eventShape(spec), shift: eventShape(spec) }),
  init: (spec) => ({ logScale: tf.zeros(eventShape(spec)), shift: tf.zeros(eventShape(spec)) }),
  forward: (_spec, p, x) => {
    const logScale = param(p, 'logScale');
    return {
      out: tf.add(tf.mul(x, tf.exp(logScale)), param(p, 'shift')),
      logDet: perSample(x.shape[0], tf.sum(logScale)),
    };
  },
  inverse: (_spec, p, y) => {
    const logScale = param(p, 'logScale');
    return {
      out: tf.mul(tf.sub(y, param(p, 'shift')), tf.exp(tf.neg(logScale))),
      logDet: tf.neg(perSample(y.shape[0], tf.sum(logScale))),
    };
  },
};
