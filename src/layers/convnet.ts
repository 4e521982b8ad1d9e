/**
 * Glow's coupling network as a pure function of its parameters:
 * conv(k0) cIn -> h, ReLU, conv(k1) h -> h, ReLU, conv(k2) h -> cOut, all 'same'-padded.
 * Hidden layers use PyTorch's default init (U(-1/sqrt(fanIn), 1/sqrt(fanIn))) so weights ported from
 * the reference code behave alike; the last layer is zero so a coupling starts as the identity.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamRecord, ShapeRecord } from '../dsl/params.js';
import { conv2dSame } from './ops.js';
import type { ConvNetSpec } from './spec.js';

const layerShapes = (spec: ConvNetSpec, cIn: number, cOut: number): Array<readonly [number, number, number]> => [
  [spec.kernels[0], cIn, spec.hidden],
  [spec.kernels[1], spec.hidden, spec.hidden],
  [spec.kernels[2], spec.hidden, cOut],
];

export const convNetParamShapes = (spec: ConvNetSpec, cIn: number, cOut: number): ShapeRecord =>
  Object.fromEntries(
    layerShapes(spec, cIn, cOut).map(([k, i, o], l) => [`conv${l}`, { kernel: [k, k, i, o], bias: [o] }]),
  );

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

const layer = (params: ParamRecord, l: number): { kernel: tf.Tensor4D; bias: tf.Tensor1D } => {
  const p = params[`conv${l}`] as ParamRecord | undefined;
  if (p === undefined) throw new TypeError(`convNet params: missing conv${l}`);
  return { kernel: p['kernel'] as tf.Tensor4D, bias: p['bias'] as tf.Tensor1D };
};

export const applyConvNet = (params: ParamRecord, x: tf.Tensor4D): tf.Tensor4D => {
  const l0 = layer(params, 0);
  const l1 = layer(params, 1);
  const l2 = layer(params, 2);
  const h0 = conv2dSame(x, l0.kernel, l0.bias, 'relu');
  const h1 = conv2dSame(h0, l1.kernel, l1.bias, 'relu');
  return conv2dSame(h1, l2.kernel, l2.bias);
};
