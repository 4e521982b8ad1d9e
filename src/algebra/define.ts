/**
 * From maths written on the algebra to a definition's tfjs passes: the tfjs engine runs the same
 * function every other engine runs, so a kind states its maths once (`algebra`) and gets `forward`
 * and `inverse` from it.
 */
import * as tf from '@tensorflow/tfjs';
import type { Maths } from '../dsl/definition.js';
import type { AlgebraBijector, AlgebraMaths, Context, Ops, ValueTree } from './ops.js';
import { tfjsOps } from './tfjs.js';

/**
 * The tfjs pass of maths on the algebra: tidied, so the maths called on its own leaves only its
 * outputs, and every output a new tensor (maths that passes an input through, as `identity` does,
 * gets a copy), so disposing a pass's outputs never disposes its inputs.
 */
const onTfjs =
  <S>(maths: AlgebraMaths<S>): Maths<S> =>
  (spec, params, xs, ctx) =>
    tf.tidy(() => {
      const { outs, logDet } = maths(tfjsOps, spec, params, xs, ctx);
      return { outs: outs.map((y) => (xs.includes(y) ? tf.clone(y) : y)), logDet: logDet as tf.Tensor1D };
    });

/** The `algebra`, `forward` and `inverse` parts of a definition, from its maths on the algebra. */
export const algebraic = <S>(maths: AlgebraBijector<S>): { readonly algebra: AlgebraBijector<S>; readonly forward: Maths<S>; readonly inverse: Maths<S> } => ({
  algebra: maths,
  forward: onTfjs(maths.forward),
  inverse: onTfjs(maths.inverse),
});

/** One-tensor maths: `f` sees the single input and returns the single output with its log-det. */
export const unaryAlgebra =
  <S>(f: <T>(o: Ops<T>, spec: S, params: ValueTree<T>, x: T, ctx: Context<T>) => { readonly out: T; readonly logDet: T }): AlgebraMaths<S> =>
  (o, spec, params, xs, ctx) => {
    const x = xs[0];
    if (x === undefined) throw new TypeError('expected one input tensor');
    const { out, logDet } = f(o, spec, params, x, ctx);
    return { outs: [out], logDet };
  };
