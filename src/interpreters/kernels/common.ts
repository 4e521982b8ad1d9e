import * as tf from '@tensorflow/tfjs';
import type { ParamRecord } from '../params.js';

/**
 * A per-sample log-det that is the same scalar for every sample. Broadcast by adding to zeros: its
 * gradient is one sum, where multiplying ones would add a product and a cast backward.
 */
export const perSample = (batch: number, value: tf.Tensor | number): tf.Tensor1D =>
  tf.add(tf.zeros([batch]), value) as tf.Tensor1D;

export const zeroLogDet = (batch: number): tf.Tensor1D => tf.zeros([batch]);

/** A named tensor of a primitive's params (kernels are only handed trees checked against paramShapes). */
export const param = <T extends tf.Tensor>(params: ParamRecord, name: string): T => {
  const t = params[name];
  if (!(t instanceof tf.Tensor)) throw new TypeError(`missing parameter '${name}'`);
  return t as T;
};

export const subtree = (params: ParamRecord, name: string): ParamRecord => {
  const t = params[name];
  if (t === undefined || t instanceof tf.Tensor || Array.isArray(t)) throw new TypeError(`missing parameter group '${name}'`);
  return t as ParamRecord;
};
