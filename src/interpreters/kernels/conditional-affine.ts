/**
 * Kernel of `conditionalAffine` (maths in src/dsl/bijectors/conditional-affine.ts).
 * Network output channels: the first C are s_raw, the last C are t.
 */
import * as tf from '@tensorflow/tfjs';
import type { ConditionalAffineSpec } from '../../dsl/spec.js';
import { applyConvNet, convNetParamShapes, initConvNet } from '../../layers/convnet.js';
import { sumPerSample } from '../../layers/ops.js';
import { subtree } from './common.js';
import { conditioningChannels, networkInput, softClamp } from './conditioning.js';
import type { Context, Kernel } from './kernel.js';
import type { ParamRecord } from '../params.js';

const scaleAndShift = (spec: ConditionalAffineSpec, p: ParamRecord, ctx: Context, batch: number): [tf.Tensor, tf.Tensor] => {
  const h = applyConvNet(subtree(p, 'net'), networkInput(undefined, spec.cond, ctx, batch));
  const [sRaw, t] = tf.split(h, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
  return [softClamp(sRaw, spec.clamp), t];
};

export const conditionalAffineKernel: Kernel<ConditionalAffineSpec> = {
  paramShapes: (spec) => ({ net: convNetParamShapes(spec.net, conditioningChannels(spec.cond), 2 * spec.shape[0]) }),
  init: (spec, { nextSeed }) => ({ net: initConvNet(spec.net, conditioningChannels(spec.cond), 2 * spec.shape[0], nextSeed) }),
  forward: (spec, p, x, ctx) => {
    const [s, t] = scaleAndShift(spec, p, ctx, x.shape[0]);
    return { out: tf.add(tf.mul(x, tf.exp(s)), t) as tf.Tensor4D, logDet: sumPerSample(s) };
  },
  inverse: (spec, p, y, ctx) => {
    const [s, t] = scaleAndShift(spec, p, ctx, y.shape[0]);
    return { out: tf.mul(tf.sub(y, t), tf.exp(tf.neg(s))) as tf.Tensor4D, logDet: tf.neg(sumPerSample(s)) };
  },
};
