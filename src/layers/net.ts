/**
 * The networks a coupling may hold, dispatched on their spec's `kind`: what event ranks each takes,
 * its parameter shapes, initialisation and application. A new kind of net is one case here.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ParamRecord, ShapeRecord } from '../dsl/params.js';
import { applyConvNet, convNetParamShapes, initConvNet } from './convnet.js';
import type { NetSpec } from './spec.js';

/** Event ranks a net can read: a conv net needs images [C,H,W]. */
export const netRanks = (net: NetSpec): readonly number[] => {
  switch (net.kind) {
    case 'convNet':
      return [3];
  }
};

export const netParamShapes = (net: NetSpec, cIn: number, cOut: number): ShapeRecord => {
  switch (net.kind) {
    case 'convNet':
      return convNetParamShapes(net, cIn, cOut);
  }
};

export const initNet = (net: NetSpec, cIn: number, cOut: number, nextSeed: () => number): ParamRecord => {
  switch (net.kind) {
    case 'convNet':
      return initConvNet(net, cIn, cOut, nextSeed);
  }
};

/** The net on a channels-last tensor: cIn channels in, cOut out, spatial dimensions kept. */
export const applyNet = (net: NetSpec, params: ParamRecord, x: tf.Tensor): tf.Tensor => {
  switch (net.kind) {
    case 'convNet':
      return applyConvNet(params, x as tf.Tensor4D);
  }
};
