/**
 * What lowering one primitive layer to ONNX nodes takes and gives, shared by the generic lowering
 * (maths on the op algebra) and the hand-written overrides: the graph, its conditioning inputs, the
 * options, and the layer's outputs with its log-det.
 */
import type { Node, Step } from '../../dsl/fold.js';
import type { PrimitiveKind, PrimitiveSpec } from '../../dsl/registry.js';
import { OnnxExportError } from './errors.js';
import type { Graph } from './graph.js';
import type { LogDet } from './logdet.js';
import type { At } from './weights.js';

/** Conditioning inputs of the graph by name. */
export type ContextValues = { readonly [name: string]: string };

/** The default of `maxUnroll`: sequential passes of up to 1024 steps are unrolled. */
export const DEFAULT_MAX_UNROLL = 1024;

export interface LoweringOptions {
  /** Largest number of steps of a sequential (autoregressive) pass that is unrolled. */
  readonly maxUnroll: number;
}

/** The graph a layer is lowered into, with the graph's conditioning inputs. */
export interface LoweringEnv {
  readonly g: Graph;
  readonly ctx: ContextValues;
  readonly options: LoweringOptions;
}

/** A lowered layer: the names of its outputs and its log-det. */
export type Lowered = Step<string, LogDet>;

/** The lowering of the layers of kind K. */
export type KindLowering<K extends PrimitiveKind> = (spec: Extract<PrimitiveSpec, { readonly kind: K }>, node: Node<string>, env: LoweringEnv) => Lowered;

/** Hand-written lowerings of some kinds, by kind. */
export type Overrides = { readonly [K in PrimitiveKind]?: KindLowering<K> };

export const atOf = (node: Node<string>): At => ({ path: node.path, paramPath: node.paramPath });

/** The layer's input `i`. */
export const input = (node: Node<string>, i = 0): string => {
  const v = node.ins?.[i];
  if (v === undefined) throw new OnnxExportError(node.path, `expected input ${i} of this layer`);
  return v;
};

/** The conditioning input `name` of the graph, checked to exist. */
export const conditionValue = (ctx: ContextValues, name: string, path: string): string => {
  const v = Object.prototype.hasOwnProperty.call(ctx, name) ? ctx[name] : undefined;
  if (v === undefined) throw new OnnxExportError(path, `the conditioning input '${name}' is not an input of the graph`);
  return v;
};
