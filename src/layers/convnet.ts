/**
 * Glow's coupling network as a pure function of its parameters, written on the op algebra:
 * conv(k0) cIn -> h, ReLU, conv(k1) h -> h, ReLU, conv(k2) h -> cOut, all 'same'-padded.
 * Hidden layers use PyTorch's default init (U(-1/sqrt(fanIn), 1/sqrt(fanIn))) so weights ported from
 * the reference code behave alike; the last layer is zero so a coupling starts as the identity.
 */
import * as tf from '@tensorflow/tfjs';
import { branch, param, type Ops, type ValueTree } from '../algebra/ops.js';
import type { ParamRecord, ShapeRecord } from '../dsl/params.js';
import type { ConvNetSpec } from './spec.js';

const layerShapes = (spec: ConvNetSpec, cIn: number, cOut: number): Array<readonly [number, number, number]> => [
  [spec.kernels[0], cIn, spec.hidden],
  [spec.kernels[1], spec.hidden, spec.hidden],
  [spec.kernels[2], spec.hidden, cOut],
];

/** The parameter shapes of a convNet from cIn to cOut channels: `conv0..conv2`, each { kernel [k, k, in, out], bias [out] }. */
export const convNetParamShapes = (spec: ConvNetSpec, cIn: number, cOut: number): ShapeRecord =>
  Object.fromEntries(
    layerShapes(spec, cIn, cOut).map(([k, i, o], l) => [`conv${l}`, { kernel: [k, k, i, o], bias: [o] }]),
  );

/** Fresh convNet parameters: PyTorch's default uniform init for the hidden layers (seeds from `nextSeed`), the last layer zero. */
export const initConvNet = (spec: ConvNetSpec, cIn: number, cOut: number, nextSeed: () => number): ParamRecord =>
  Object.fromEntries(
    layerShapes(spec, cIn, cOut).map(([k, i, o], l) => {
      const last = l === 2;
      const bound = 1 / Math.sqrt(k * k * i);
      const kernel = last ? tf.zeros([k, k, i, o]) : tf.randomUniform([k, k, i, o], -bound, bound, 'float32', nextSeed());
      const bias = last ? tf.zeros([o]) : tf.randomUniform([o], -bound, bound, 'float32', nextSeed());
      return [`conv${l}`, { kernel, bias }];
    }),
  );

const layer = <T>(o: Ops<T>, params: ValueTree<T>, l: number): { kernel: T; bias: T } => {
  const p = branch(o, params, `conv${l}`);
  return { kernel: param(o, p, 'kernel'), bias: param(o, p, 'bias') };
};

/** The conv net on the algebra: x [N,H,W,cIn] -> [N,H,W,cOut] (conv + ReLU as one op, fused on tfjs). */
export const convNetOn = <T>(o: Ops<T>, params: ValueTree<T>, x: T): T => {
  const l0 = layer(o, params, 0);
  const l1 = layer(o, params, 1);
  const l2 = layer(o, params, 2);
  const h0 = o.conv2dRelu(x, l0.kernel, l0.bias);
  const h1 = o.conv2dRelu(h0, l1.kernel, l1.bias);
  return o.conv2d(h1, l2.kernel, l2.bias);
};
