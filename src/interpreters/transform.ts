/**
 * The forward and inverse interpreters: the fold with each primitive's own maths.
 * forward: x -> (y, log|det dy/dx|); inverse: y -> (x, log|det dx/dy|). Log-dets are per sample [N].
 * Every pass runs under tf.tidy and returns only its outputs.
 */
import * as tf from '@tensorflow/tfjs';
import type { Context } from '../dsl/definition.js';
import { ShapeMismatchError } from '../dsl/errors.js';
import { fold, type Direction, type FoldTable } from '../dsl/fold.js';
import { sumLogDets } from '../dsl/maths/common.js';
import type { ParamRecord, ParamTree } from '../dsl/params.js';
import { definitionOf } from '../dsl/registry.js';
import { formatShape, sameShape, tensorShape, type CondShapes, type Shape, type Shapes } from '../dsl/shape.js';
import { signature } from '../dsl/signature.js';
import type { Flow, FlowSpec } from '../dsl/spec.js';
import { checkParams } from './param-shapes.js';
import type { ContextArg, FirstTensorOf, InputsOf, TensorsOf } from './tensors.js';

export type { Direction } from '../dsl/fold.js';

type PassResult = {
  readonly outs: tf.Tensor[];
  readonly logDet: tf.Tensor1D;
};

/** The pass interpreter's table: each primitive's maths; log-dets summed in the order the nodes ran. */
const passTable = (ctx: Context, batch: number): FoldTable<tf.Tensor, tf.Tensor1D> => ({
  primitive: (spec, node) => {
    const definition = definitionOf(spec);
    const maths = node.dir === 'forward' ? definition.forward : definition.inverse;
    const { outs, logDet } = maths(spec, node.params as ParamRecord, node.ins ?? [], ctx);
    return { outs, result: logDet };
  },
  sequence: (children, node) => sumLogDets(node.dir === 'inverse' ? [...children].reverse() : children, batch),
  parallel: (branches) => sumLogDets(branches, batch),
  invert: (body) => body,
});

/** One node in one direction; xs are the node's inputs in that direction. Not tidied: callers tidy. */
export const run = (spec: FlowSpec, params: ParamTree, xs: readonly tf.Tensor[], ctx: Context, dir: Direction): PassResult => {
  const step = fold(spec, passTable(ctx, xs[0]?.shape[0] ?? 0), { dir, ins: xs, params });
  return { outs: [...(step.outs ?? [])], logDet: step.result };
};

/** A bare tensor as a list of one; a list as a copy. */
export const asList = (xs: tf.Tensor | readonly tf.Tensor[]): tf.Tensor[] => (xs instanceof tf.Tensor ? [xs] : [...xs]);

/** Checks that tensors are channels-last batches of the declared event shapes, with one batch size. */
export const checkInputs = (xs: readonly tf.Tensor[], shapes: readonly Shape[], what: string): void => {
  if (xs.length !== shapes.length) {
    throw new ShapeMismatchError(`${what}: expected ${shapes.length} tensor(s) of event shape ${shapes.map(formatShape).join(', ')}, got ${xs.length}`);
  }
  const batch = xs[0]?.shape[0];
  xs.forEach((x, i) => {
    const event = shapes[i] as Shape;
    const want = tensorShape(event, batch ?? 0);
    if (!sameShape(x.shape, want)) {
      const layout = event.length === 3 ? 'NHWC' : 'channels-last';
      throw new ShapeMismatchError(
        `${what}: tensor ${i} has shape ${formatShape(x.shape)} but the flow expects [N,${want.slice(1).join(',')}] (${layout} for event ${formatShape(event)})` +
          (x.shape[0] !== batch ? `, with the batch size ${batch} of tensor 0` : ''),
      );
    }
  });
};

const passOf = (flow: FlowSpec, params: ParamTree, dir: Direction) => {
  const sig = signature(flow);
  checkParams(flow, params);
  return (input: tf.Tensor | readonly tf.Tensor[], ctx: Context = {}): PassResult => {
    const xs = asList(input);
    checkInputs(xs, dir === 'forward' ? sig.ins : sig.outs, dir);
    return tf.tidy(() => run(flow, params, xs, ctx, dir));
  };
};

/** What `forward` returns: the outputs (batch first, channels last) and log|det dy/dx| per sample. */
export interface ForwardResult<O extends Shapes> {
  /** The first output (the only one for a single-output flow). */
  readonly y: FirstTensorOf<O>;
  /** Every output tensor, in the order of the flow's outputs. */
  readonly ys: TensorsOf<O>;
  /** log|det dy/dx| per sample. */
  readonly logDet: tf.Tensor1D;
}

/** What `inverse` returns: the inputs (batch first, channels last) and log|det dx/dy| per sample. */
export interface InverseResult<I extends Shapes> {
  /** The first input (the only one for a single-input flow). */
  readonly x: FirstTensorOf<I>;
  /** Every input tensor, in the order of the flow's inputs. */
  readonly xs: TensorsOf<I>;
  /** log|det dx/dy| per sample (= -forward logDet at x). */
  readonly logDet: tf.Tensor1D;
}

/** forward(flow, params)(x, ctx) -> { y, ys, logDet }. */
export const forward =
  <I extends Shapes, O extends Shapes, C extends CondShapes>(flow: Flow<I, O, C>, params: ParamTree) => {
    const pass = passOf(flow, params, 'forward');
    return (x: InputsOf<I>, ...ctx: ContextArg<C>): ForwardResult<O> => {
      const { outs, logDet } = pass(x as tf.Tensor | readonly tf.Tensor[], ctx[0] as Context | undefined);
      return { y: outs[0] as FirstTensorOf<O>, ys: outs as unknown as TensorsOf<O>, logDet };
    };
  };

/** inverse(flow, params)(y, ctx) -> { x, xs, logDet }. */
export const inverse =
  <I extends Shapes, O extends Shapes, C extends CondShapes>(flow: Flow<I, O, C>, params: ParamTree) => {
    const pass = passOf(flow, params, 'inverse');
    return (y: InputsOf<O>, ...ctx: ContextArg<C>): InverseResult<I> => {
      const { outs, logDet } = pass(y as tf.Tensor | readonly tf.Tensor[], ctx[0] as Context | undefined);
      return { x: outs[0] as FirstTensorOf<I>, xs: outs as unknown as TensorsOf<I>, logDet };
    };
  };
