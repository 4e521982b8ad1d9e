/**
 * A whole flow on any engine of the op algebra: the fold with each primitive's `definition.algebra`,
 * log-dets summed as the tfjs interpreter sums them. `float64Run` runs it on the float64 reference
 * engine from tf.Tensor inputs and parameters (converted exactly, float32 widening to float64).
 */
import type * as tf from '@tensorflow/tfjs';
import { paramsToFloat64, toFloat64 } from '../algebra/float64-tfjs.js';
import { float64Ops, isFloat64Tensor, type Float64Tensor, type Float64Value } from '../algebra/float64.js';
import type { Context, Ops, ValueNode, ValueTree } from '../algebra/ops.js';
import type { Context as TensorContext } from '../dsl/definition.js';
import { fold, type Direction, type FoldTable } from '../dsl/fold.js';
import type { ParamTree } from '../dsl/params.js';
import { definitionOf } from '../dsl/registry.js';
import type { FlowSpec } from '../dsl/spec.js';

/** A kind whose maths is not yet written on the op algebra: the engines other than tfjs cannot run it. */
export class NoAlgebraError extends Error {
  constructor(
    readonly kind: string,
    readonly path: string,
    readonly engine: string,
  ) {
    super(`the ${engine} engine cannot run '${kind}' at ${path}: that kind's maths is not written on the op algebra yet (its definition has no 'algebra' field)`);
    this.name = 'NoAlgebraError';
  }
}

/** The subtree of `tree` at a dotted parameter path ('' is the root), as the fold numbers them. */
const subtree = <T>(tree: ValueNode<T>, paramPath: string): ValueNode<T> | undefined =>
  paramPath === ''
    ? tree
    : paramPath.split('.').reduce<ValueNode<T> | undefined>((node, key) => {
        if (node === undefined || typeof node !== 'object' || node === null) return undefined;
        return (node as { readonly [k: string]: ValueNode<T> })[key];
      }, tree);

/** One pass of a flow on an engine of the algebra. */
export interface AlgebraRun<T> {
  readonly outs: readonly T[];
  /** log|det| of the pass per sample ([N]). */
  readonly logDet: T;
}

/**
 * Runs `spec` in direction `dir` on engine `o`, its parameters a tree of the engine's values mirroring
 * the spec. Throws NoAlgebraError at the first primitive whose definition has no `algebra`.
 */
export const algebraRun = <T>(o: Ops<T>, spec: FlowSpec, params: ValueNode<T>, xs: readonly T[], ctx: Context<T>, dir: Direction): AlgebraRun<T> => {
  const like = xs[0];
  if (like === undefined) throw new TypeError('algebraRun: expected at least one input');
  const total = (parts: readonly T[]): T => parts.reduce((a, b) => o.add(a, b), o.perSample(like, o.scalar(0)));
  const table: FoldTable<T, T> = {
    primitive: (layer, node) => {
      const maths = definitionOf(layer).algebra;
      if (maths === undefined) throw new NoAlgebraError(layer.kind, node.path, o.engine);
      const own = subtree(params, node.paramPath) ?? {};
      if (o.isValue(own) || Array.isArray(own)) throw new TypeError(`params at '${node.paramPath}': expected a record of ${layer.kind}'s parameters`);
      const { outs, logDet } = (node.dir === 'forward' ? maths.forward : maths.inverse)(o, layer, own as ValueTree<T>, node.ins ?? [], ctx);
      return { outs, result: logDet };
    },
    sequence: (children) => total(children),
    parallel: (branches) => total(branches),
    invert: (body) => body,
  };
  const step = fold(spec, table, { dir, ins: xs });
  return { outs: step.outs ?? [], logDet: step.result };
};

const tensorOf = (v: Float64Value | undefined): Float64Tensor => {
  if (!isFloat64Tensor(v)) throw new TypeError('float64 pass: expected tensors, got a mask');
  return v;
};

/** A pass computed in float64, as float64 values. */
export interface Float64Run {
  readonly outs: readonly Float64Tensor[];
  readonly logDet: Float64Tensor;
}

/**
 * Runs a flow in float64 from tf.Tensor parameters, inputs and context (read back exactly), on `ops`
 * (the float64 engine by default; the float32-rounded one to measure float32's own error).
 */
export const float64Run = (
  spec: FlowSpec,
  params: ParamTree,
  xs: readonly tf.Tensor[],
  ctx: TensorContext,
  dir: Direction,
  ops: Ops<Float64Value> = float64Ops,
): Float64Run => {
  const round = (v: Float64Tensor): Float64Tensor => ops.constant(v.data, v.shape) as Float64Tensor;
  const c = Object.fromEntries(Object.entries(ctx).map(([k, t]) => [k, round(toFloat64(t))]));
  const run = algebraRun(ops, spec, paramsToFloat64(params), xs.map((x) => round(toFloat64(x))), c, dir);
  return { outs: run.outs.map(tensorOf), logDet: tensorOf(run.logDet) };
};
