/** Kernel of `actnorm` (maths in src/dsl/bijectors/actnorm.ts). */
import * as tf from '@tensorflow/tfjs';
import type { ActNormSpec } from '../../dsl/spec.js';
import { param, perSample } from './common.js';
import type { Kernel } from './kernel.js';

/** Keeps logScale finite for a channel that is constant in the init batch. */
const MIN_STD = 1e-6;

export const actnormKernel: Kernel<ActNormSpec> = {
  paramShapes: ({ shape: [c] }) => ({ bias: [c], logScale: [c] }),
  init: ({ shape: [c] }, { data }) => {
    if (data === undefined) return { bias: tf.zeros([c]), logScale: tf.zeros([c]) };
    const { mean, variance } = tf.moments(data, [0, 1, 2]);
    return { bias: tf.neg(mean), logScale: tf.neg(tf.log(tf.add(tf.sqrt(variance), MIN_STD))) };
  },
  forward: ({ shape: [, h, w] }, p, x) => {
    const logScale = param(p, 'logScale');
    return {
      out: tf.mul(tf.add(x, param(p, 'bias')), tf.exp(logScale)),
      logDet: perSample(x.shape[0], tf.mul(tf.sum(logScale), h * w)),
    };
  },
  inverse: ({ shape: [, h, w] }, p, y) => {
    const logScale = param(p, 'logScale');
    return {
      out: tf.sub(tf.mul(y, tf.exp(tf.neg(logScale))), param(p, 'bias')),
      logDet: perSample(y.shape[0], tf.mul(tf.sum(logScale), -h * w)),
    };
  },
};
