/**
 * A layer's parameter tree as the ONNX engine's values: each tensor becomes a float initializer named
 * by its parameter path (`0.3.net.dense0.kernel`), created when the maths first reads it, so a
 * parameter the maths does not use adds nothing to the model.
 */
import * as tf from '@tensorflow/tfjs';
import type { ValueNode, ValueTree } from '../../algebra/ops.js';
import { joinParamPath, type ParamTree } from '../../dsl/params.js';
import { OnnxExportError } from './errors.js';
import type { Graph } from './graph.js';
import { valuesOf, type At } from './weights.js';

/** `target[key]` as a getter that computes `value()` once, on first read. */
const defineLazy = (target: object, key: string | number, value: () => ValueNode<string>): void => {
  let cached: ValueNode<string> | undefined;
  Object.defineProperty(target, key, { enumerable: true, get: () => (cached ??= value()) });
};

/** A params subtree (a tensor, a list or a record) as initializer names under `name`, each created on first read. */
export const paramNode = (g: Graph, p: ParamTree, name: string): ValueNode<string> => {
  if (p instanceof tf.Tensor) return g.floats(name, valuesOf(p), p.shape);
  const out: object = Array.isArray(p) ? new Array<ValueNode<string>>(p.length) : {};
  for (const [key, child] of Object.entries(p as object) as [string, ParamTree][]) defineLazy(out, key, () => paramNode(g, child, joinParamPath(name, key)));
  return out as ValueNode<string>;
};

/** The parameters of the layer at `at` (none: an empty tree) as initializer names. */
export const paramValues = (g: Graph, params: ParamTree | undefined, at: At): ValueTree<string> => {
  if (params === undefined) return {};
  if (params instanceof tf.Tensor || Array.isArray(params))
    throw new OnnxExportError(at.path, `expected the parameters of this layer at '${at.paramPath}' to be a record, found ${params instanceof tf.Tensor ? 'a tensor' : 'a list'}`);
  return paramNode(g, params, at.paramPath) as ValueTree<string>;
};
