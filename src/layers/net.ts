/**
 * The networks a coupling or autoregressive layer may hold, dispatched on their spec's `kind`: what
 * event ranks each takes, its parameter shapes, initialisation and application. A new kind of net is
 * one case here (the compiler asks for it in every switch).
 */
import type * as tf from '@tensorflow/tfjs';
import type { ParamRecord, ShapeRecord } from '../dsl/params.js';
import { applyConvNet, convNetParamShapes, initConvNet } from './convnet.js';
import { applyMade, applyMlp, initMlp, mlpParamShapes } from './mlp.js';
import type { NetSpec } from './spec.js';

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

export const netParamShapes = (net: NetSpec, cIn: number, cOut: number): ShapeRecord => {
  switch (net.kind) {
    case 'convNet':
      return convNetParamShapes(net, cIn, cOut);
    case 'mlp':
    case 'made':
      return mlpParamShapes(net, cIn, cOut);
  }
};

export const initNet = (net: NetSpec, cIn: number, cOut: number, nextSeed: () => number): ParamRecord => {
  switch (net.kind) {
    case 'convNet':
      return initConvNet(net, cIn, cOut, nextSeed);
    case 'mlp':
    case 'made':
      return initMlp(net, cIn, cOut, nextSeed);
  }
};

/**
 * The net on a channels-last tensor: cIn channels in, cOut out, spatial dimensions kept. A `made`
 * needs `autoregressive`, the number of leading input channels that are autoregressive (the rest are
 * context); the other nets ignore it.
 */
export const applyNet = (net: NetSpec, params: ParamRecord, x: tf.Tensor, autoregressive?: number): tf.Tensor => {
  switch (net.kind) {
    case 'convNet':
      return applyConvNet(params, x as tf.Tensor4D);
    case 'mlp':
      return applyMlp(net, params, x);
    case 'made':
      if (autoregressive === undefined) throw new TypeError('a made net needs the number of its autoregressive inputs');
      return applyMade(net, params, x, autoregressive);
  }
};
