/**
 * The networks a coupling or autoregressive layer may hold, dispatched on their spec's `kind`: what
 * event ranks each takes, its parameter shapes, initialisation and application. A new kind of net is
 * one case here (the compiler asks for it in every switch).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Ops, ValueTree } from '../algebra/ops.js';
import { tfjsOps } from '../algebra/tfjs.js';
import type { ParamRecord, ShapeRecord } from '../dsl/params.js';
import { convNetOn, convNetParamShapes, initConvNet } from './convnet.js';
import { initMlp, madeOn, mlpOn, mlpParamShapes } from './mlp.js';
import type { MadeSpec, MlpSpec, NetSpec } from './spec.js';

/** Event ranks a net can read: a conv net needs images [C,H,W], the dense nets vectors [D]. */
export const netRanks = (net: NetSpec): readonly number[] => {
  switch (net.kind) {
    case 'convNet':
      return [3];
    case 'mlp':
    case 'made':
      return [1];
  }
};

/** The parameter shapes of any conditioner network from cIn to cOut channels. */
export const netParamShapes = (net: NetSpec, cIn: number, cOut: number): ShapeRecord => {
  switch (net.kind) {
    case 'convNet':
      return convNetParamShapes(net, cIn, cOut);
    case 'mlp':
    case 'made':
      return mlpParamShapes(net, cIn, cOut);
  }
};

/** Fresh parameters of any conditioner network from cIn to cOut channels, the last layer zero. */
export const initNet = (net: NetSpec, cIn: number, cOut: number, nextSeed: () => number): ParamRecord => {
  switch (net.kind) {
    case 'convNet':
      return initConvNet(net, cIn, cOut, nextSeed);
    case 'mlp':
    case 'made':
      return initMlp(net, cIn, cOut, nextSeed);
  }
};

/** A net's input and output channels (from the spec of the layer holding it: values carry no shape on every engine). */
export interface NetWidths {
  readonly cIn: number;
  readonly cOut: number;
}

/**
 * The net on the algebra, on a channels-last value: cIn channels in, cOut out, spatial dimensions kept.
 * A `made` needs `autoregressive`, the number of leading input channels that are autoregressive (the
 * rest are context); the other nets ignore it.
 */
export const netOn = <T>(o: Ops<T>, net: NetSpec, params: ValueTree<T>, x: T, { cIn, cOut }: NetWidths, autoregressive?: number): T => {
  switch (net.kind) {
    case 'convNet':
      return convNetOn(o, params, x);
    case 'mlp':
      return mlpOn(o, net, params, x, cIn, cOut);
    case 'made':
      if (autoregressive === undefined) throw new TypeError('a made net needs the number of its autoregressive inputs');
      return madeOn(o, net, params, x, autoregressive, cIn, cOut);
  }
};

/** The net on a tfjs tensor, its widths read from the input and the parameters. */
export function applyNet(net: NetSpec, params: ParamRecord, x: tf.Tensor, autoregressive?: number): tf.Tensor {
  const shapes = netParamShapes(net, 1, 1);
  const last = Object.keys(shapes).at(-1) as string;
  const kernel = (params[last] as ParamRecord | undefined)?.['kernel'] as tf.Tensor | undefined;
  if (kernel === undefined) throw new TypeError(`${net.kind} params: missing ${last}.kernel`);
  return netOn(tfjsOps, net, params, x, { cIn: x.shape[x.rank - 1] as number, cOut: kernel.shape[kernel.rank - 1] as number }, autoregressive);
}

/** The conv net on tfjs tensors. */
export const applyConvNet = (params: ParamRecord, x: tf.Tensor4D): tf.Tensor4D => convNetOn(tfjsOps, params, x) as tf.Tensor4D;
/** The MLP on tfjs tensors, [N, cIn] -> [N, cOut]. */
export const applyMlp = (spec: MlpSpec, params: ParamRecord, x: tf.Tensor): tf.Tensor => applyNet(spec, params, x);
/** MADE on tfjs tensors, [N, cIn] -> [N, cOut]: the first d inputs autoregressive, the rest context. */
export const applyMade = (spec: MadeSpec, params: ParamRecord, x: tf.Tensor, d: number): tf.Tensor => applyNet(spec, params, x, d);
