/**
 * Kernel of `affineCoupling` (maths in src/dsl/bijectors/coupling.ts).
 * Network output channels: the first c2 are s_raw, the last c2 are t (c2 = C - floor(C/2)).
 */
import * as tf from '@tensorflow/tfjs';
import type { AffineCouplingSpec } from '../../dsl/spec.js';
import { applyConvNet } from '../../layers/convnet.js';
import { sumPerSample } from '../../layers/ops.js';
import { subtree } from './common.js';
import { couplingNetParams, networkInput, softClamp, splitHalves } from './conditioning.js';
import type { Context, Kernel } from './kernel.js';
import type { ParamRecord } from '../params.js';


const scaleAndShift = (spec: AffineCouplingSpec, p: ParamRecord, x1: tf.Tensor4D, ctx: Context): [tf.Tensor, tf.Tensor] => {
  const h = applyConvNet(subtree(p, 'net'), networkInput(x1, spec.cond, ctx, x1.shape[0]));
  const [sRaw, t] = tf.split(h, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
  return [softClamp(sRaw, spec.clamp), t];
};

export const affineCouplingKernel: Kernel<AffineCouplingSpec> = {
  // Per channel of x2 the network gives s_raw and t.
  ...couplingNetParams(() => 2),
  forward: (spec, p, x, ctx) => {
    const [x1, x2] = splitHalves(x);
    const [s, t] = scaleAndShift(spec, p, x1, ctx);
    return { out: tf.concat<tf.Tensor4D>([x1, tf.add<tf.Tensor4D>(tf.mul(x2, tf.exp(s)), t)], 3), logDet: sumPerSample(s) };
  },
  inverse: (spec, p, y, ctx) => {
    const [y1, y2] = splitHalves(y);
    const [s, t] = scaleAndShift(spec, p, y1, ctx);
    return { out: tf.concat<tf.Tensor4D>([y1, tf.mul<tf.Tensor4D>(tf.sub(y2, t), tf.exp(tf.neg(s)))], 3), logDet: tf.neg(sumPerSample(s)) };
  },
};
