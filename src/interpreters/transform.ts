/**
 * The forward and inverse interpreters: fold over the spec, calling each primitive's kernel.
 * forward: x -> (y, log|det dy/dx|); inverse: y -> (x, log|det dx/dy|). Log-dets are per sample [N].
 * Every pass runs under tf.tidy and returns only its outputs.
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeMismatchError } from '../dsl/errors.js';
import { formatShape, type CondShapes, type Shape3, type Shapes } from '../dsl/shape.js';
import type { Flow, FlowSpec } from '../dsl/spec.js';
import { kernelOf, type Context } from './kernels/index.js';
import { checkParams } from './param-shapes.js';
import { child, type ParamRecord, type ParamTree } from './params.js';
import { signature } from './shapes.js';
import type { ContextArg, InputsOf, TensorsOf } from './tensors.js';

export type Direction = 'forward' | 'inverse';

type Step = {
  readonly outs: tf.Tensor4D[];
  readonly logDet: tf.Tensor1D;
};

const flip = (d: Direction): Direction => (d === 'forward' ? 'inverse' : 'forward');

const sequence = (specs: readonly FlowSpec[], params: ParamTree, xs: tf.Tensor4D[], ctx: Context, dir: Direction): Step => {
  const order = specs.map((s, i) => [s, i] as const);
  if (dir === 'inverse') order.reverse();
  let outs = xs;
  const logDets: tf.Tensor1D[] = [];
  for (const [spec, i] of order) {
    const step = run(spec, child(params, i, `[${i}]`), outs, ctx, dir);
    outs = step.outs;
    logDets.push(step.logDet);
  }
  return { outs, logDet: totalLogDet(logDets, xs[0]?.shape[0] ?? 0) };
};

/**
 * The children's log-dets summed by one AddN rather than an Add per child: the same sum in the same
 * order, with fewer kernels forward and backward (a CAFLOW has ~130 chained nodes).
 */
const totalLogDet = (logDets: readonly tf.Tensor1D[], batch: number): tf.Tensor1D =>
  logDets.length === 0 ? tf.zeros([batch]) : logDets.length === 1 ? (logDets[0] as tf.Tensor1D) : tf.addN([...logDets]);

/** One node in one direction; xs are the node's inputs in that direction. */
export const run = (spec: FlowSpec, params: ParamTree, xs: tf.Tensor4D[], ctx: Context, dir: Direction): Step => {
  const batch = xs[0]?.shape[0] ?? 0;
  switch (spec.kind) {
    case 'chain':
      return sequence(spec.steps, params, xs, ctx, dir);
    case 'repeat':
      return sequence(Array.from({ length: spec.n }, () => spec.body), params, xs, ctx, dir);
    case 'invert':
      return run(spec.body, params, xs, ctx, flip(dir));
    case 'parallel': {
      let offset = 0;
      const outs: tf.Tensor4D[] = [];
      const logDets: tf.Tensor1D[] = [];
      spec.branches.forEach((branch, i) => {
        const sig = signature(branch);
        const arity = dir === 'forward' ? sig.ins.length : sig.outs.length;
        const step = run(branch, child(params, i, `[${i}]`), xs.slice(offset, offset + arity), ctx, dir);
        offset += arity;
        outs.push(...step.outs);
        logDets.push(step.logDet);
      });
      return { outs, logDet: totalLogDet(logDets, batch) };
    }
    case 'split':
    case 'concat': {
      const splits = dir === 'forward' ? spec.kind === 'split' : spec.kind === 'concat';
      const zero = tf.zeros([batch]) as tf.Tensor1D;
      if (splits) {
        const x = xs[0] as tf.Tensor4D;
        const at = spec.kind === 'split' ? spec.at : spec.shapes[0][0];
        return { outs: tf.split(x, [at, x.shape[3] - at], 3), logDet: zero };
      }
      return { outs: [tf.concat(xs, 3)], logDet: zero };
    }
    default: {
      const kernel = kernelOf(spec);
      const pass = (dir === 'forward' ? kernel.forward : kernel.inverse)(spec, params as ParamRecord, xs[0] as tf.Tensor4D, ctx);
      return { outs: [pass.out], logDet: pass.logDet };
    }
  }
};

const asList = (xs: tf.Tensor4D | readonly tf.Tensor4D[]): tf.Tensor4D[] => (xs instanceof tf.Tensor ? [xs] : [...xs]);

/** Checks that tensors are NHWC batches of the declared event shapes, with one batch size. */
export const checkInputs = (xs: readonly tf.Tensor[], shapes: readonly Shape3[], what: string): void => {
  if (xs.length !== shapes.length) {
    throw new ShapeMismatchError(`${what}: expected ${shapes.length} tensor(s) of event shape ${shapes.map(formatShape).join(', ')}, got ${xs.length}`);
  }
  const batch = xs[0]?.shape[0];
  xs.forEach((x, i) => {
    const [c, h, w] = shapes[i] as Shape3;
    const ok = x.rank === 4 && x.shape[0] === batch && x.shape[1] === h && x.shape[2] === w && x.shape[3] === c;
    if (!ok) {
      throw new ShapeMismatchError(
        `${what}: tensor ${i} has shape ${formatShape(x.shape)} but the flow expects [N,${h},${w},${c}] (NHWC for event ${formatShape([c, h, w])})` +
          (x.shape[0] !== batch ? `, with the batch size ${batch} of tensor 0` : ''),
      );
    }
  });
};

const passOf = (flow: FlowSpec, params: ParamTree, dir: Direction) => {
  const sig = signature(flow);
  checkParams(flow, params);
  return (input: tf.Tensor4D | readonly tf.Tensor4D[], ctx: Context = {}): Step => {
    const xs = asList(input);
    checkInputs(xs, dir === 'forward' ? sig.ins : sig.outs, dir);
    return tf.tidy(() => run(flow, params, xs, ctx, dir));
  };
};

export interface ForwardResult<O extends Shapes> {
  /** The first output (the only one for a single-output flow). */
  readonly y: tf.Tensor4D;
  readonly ys: TensorsOf<O>;
  /** log|det dy/dx| per sample. */
  readonly logDet: tf.Tensor1D;
}

export interface InverseResult<I extends Shapes> {
  readonly x: tf.Tensor4D;
  readonly xs: TensorsOf<I>;
  /** log|det dx/dy| per sample (= -forward logDet at x). */
  readonly logDet: tf.Tensor1D;
}

/** forward(flow, params)(x, ctx) -> { y, ys, logDet }. */
export const forward =
  <I extends Shapes, O extends Shapes, C extends CondShapes>(flow: Flow<I, O, C>, params: ParamTree) => {
    const pass = passOf(flow, params, 'forward');
    return (x: InputsOf<I>, ...ctx: ContextArg<C>): ForwardResult<O> => {
      const { outs, logDet } = pass(x as tf.Tensor4D | readonly tf.Tensor4D[], ctx[0] as Context | undefined);
      return { y: outs[0] as tf.Tensor4D, ys: outs as unknown as TensorsOf<O>, logDet };
    };
  };

/** inverse(flow, params)(y, ctx) -> { x, xs, logDet }. */
export const inverse =
  <I extends Shapes, O extends Shapes, C extends CondShapes>(flow: Flow<I, O, C>, params: ParamTree) => {
    const pass = passOf(flow, params, 'inverse');
    return (y: InputsOf<O>, ...ctx: ContextArg<C>): InverseResult<I> => {
      const { outs, logDet } = pass(y as tf.Tensor4D | readonly tf.Tensor4D[], ctx[0] as Context | undefined);
      return { x: outs[0] as tf.Tensor4D, xs: outs as unknown as TensorsOf<I>, logDet };
    };
  };
