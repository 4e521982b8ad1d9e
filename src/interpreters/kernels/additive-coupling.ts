/** Kernel of `additiveCoupling` (maths in src/dsl/bijectors/coupling.ts): volume preserving. */
import * as tf from '@tensorflow/tfjs';
import type { AdditiveCouplingSpec } from '../../dsl/spec.js';
import { applyConvNet } from '../../layers/convnet.js';
import { subtree, zeroLogDet } from './common.js';
import { couplingNetParams, networkInput, splitHalves } from './conditioning.js';
import type { Context, Kernel } from './kernel.js';
import type { ParamRecord } from '../params.js';


const shift = (spec: AdditiveCouplingSpec, p: ParamRecord, x1: tf.Tensor4D, ctx: Context): tf.Tensor4D =>
  applyConvNet(subtree(p, 'net'), networkInput(x1, spec.cond, ctx, x1.shape[0]));

export const additiveCouplingKernel: Kernel<AdditiveCouplingSpec> = {
  // Per channel of x2 the network gives t.
  ...couplingNetParams(() => 1),
  forward: (spec, p, x, ctx) => {
    const [x1, x2] = splitHalves(x);
    return { out: tf.concat<tf.Tensor4D>([x1, tf.add<tf.Tensor4D>(x2, shift(spec, p, x1, ctx))], 3), logDet: zeroLogDet(x.shape[0]) };
  },
  inverse: (spec, p, y, ctx) => {
    const [y1, y2] = splitHalves(y);
    return { out: tf.concat<tf.Tensor4D>([y1, tf.sub<tf.Tensor4D>(y2, shift(spec, p, y1, ctx))], 3), logDet: zeroLogDet(y.shape[0]) };
  },
};
