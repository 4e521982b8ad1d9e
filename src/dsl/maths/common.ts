/** Small tensor helpers shared by the bijector definitions. */
import * as tf from '@tensorflow/tfjs';
import type { ParamRecord } from '../params.js';

/**
 * A per-sample log-det that is the same scalar for every sample. Broadcast by adding to zeros: its
 * gradient is one sum, where multiplying ones would add a product and a cast backward.
 */
export const perSample = (batch: number, value: tf.Tensor | number): tf.Tensor1D =>
  tf.add(tf.zeros([batch]), value) as tf.Tensor1D;

/**
 * Inputs per AddN: tf.addN with 16,383 inputs crashes the wasm backend, so longer lists are summed
 * in chunks (the chunk sums in order, then their sum).
 */
const ADDN_CHUNK = 1024;

/**
 * Log-dets summed in order by one AddN rather than an Add each: the same sum with fewer kernels
 * forward and backward (a CAFLOW has ~130 chained nodes).
 */
export const sumLogDets = (logDets: readonly tf.Tensor1D[], batch: number): tf.Tensor1D => {
  if (logDets.length === 0) return tf.zeros([batch]);
  if (logDets.length === 1) return logDets[0] as tf.Tensor1D;
  if (logDets.length <= ADDN_CHUNK) return tf.addN([...logDets]);
  const chunks: tf.Tensor1D[] = [];
  for (let i = 0; i < logDets.length; i += ADDN_CHUNK) chunks.push(sumLogDets(logDets.slice(i, i + ADDN_CHUNK), batch));
  return sumLogDets(chunks, batch);
};

/** A named tensor of a primitive's params (the maths is only handed trees checked against its shapes). */
export const param = <T extends tf.Tensor>(params: ParamRecord, name: string): T => {
  const t = params[name];
  if (!(t instanceof tf.Tensor)) throw new TypeError(`missing parameter '${name}'`);
  return t as T;
};
