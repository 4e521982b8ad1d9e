/**
 * Conversions between tf.Tensor and the float64 engine's values: tensors read back exactly (float32
 * widens to float64 without loss), float64 values written as float32 tensors (rounded to nearest).
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamTree } from '../dsl/params.js';
import { float64Tensor, type Float64Tensor, type Float64Value } from './float64.js';
import type { ValueNode } from './ops.js';

/** A tensor's values as a float64 tensor of the same shape (synchronous read). */
export const toFloat64 = (t: tf.Tensor): Float64Tensor => float64Tensor(t.shape, t.dataSync() as ArrayLike<number>);

/** A float64 tensor as a float32 tf.Tensor of the same shape (the caller disposes it). */
export const fromFloat64 = (v: Float64Tensor): tf.Tensor => tf.tensor(Float32Array.from(v.data), [...v.shape], 'float32');

/** A parameter tree (or a subtree) with every tensor converted to float64. */
export const paramsToFloat64 = (tree: ParamTree): ValueNode<Float64Value> => {
  if (tree instanceof tf.Tensor) return toFloat64(tree);
  if (Array.isArray(tree)) return (tree as readonly ParamTree[]).map(paramsToFloat64);
  return Object.fromEntries(Object.entries(tree as { readonly [k: string]: ParamTree }).map(([k, v]) => [k, paramsToFloat64(v)]));
};
