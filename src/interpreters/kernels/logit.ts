/**
 * Kernel of `logit` (maths in src/dsl/bijectors/logit.ts). The inverse uses log p = -softplus(-y) and
 * log(1-p) = -softplus(y), which stay finite for large |y|.
 */
import * as tf from '@tensorflow/tfjs';
import type { LogitSpec } from '../../dsl/spec.js';
import { sumPerSample } from '../../layers/ops.js';
import type { Kernel } from './kernel.js';

/** Per-element log-det constant: -log q + log(1 - alpha). */
const constantTerm = ({ alpha, levels }: LogitSpec): number => -Math.log(levels) + Math.log1p(-alpha);

export const logitKernel: Kernel<LogitSpec> = {
  paramShapes: () => ({}),
  init: () => ({}),
  forward: (spec, _p, x) => {
    const p = tf.add(tf.mul(x, (1 - spec.alpha) / spec.levels), spec.alpha / 2);
    const logP = tf.log(p);
    const log1mP = tf.log1p(tf.neg(p));
    return {
      out: tf.sub(logP, log1mP) as tf.Tensor4D,
      logDet: sumPerSample(tf.sub(tf.sub(constantTerm(spec), logP), log1mP)),
    };
  },
  inverse: (spec, _p, y) => {
    const logP = tf.neg(tf.softplus(tf.neg(y)));
    const log1mP = tf.neg(tf.softplus(y));
    return {
      out: tf.mul(tf.sub(tf.sigmoid(y), spec.alpha / 2), spec.levels / (1 - spec.alpha)) as tf.Tensor4D,
      logDet: sumPerSample(tf.add(tf.add(-constantTerm(spec), logP), log1mP)),
    };
  },
};
