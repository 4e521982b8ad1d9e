/**
 * The reference interpreter, for tests: log|det J| from the dense Jacobian computed by autodiff, for
 * small shapes. Independent of every kernel's own log-det formula.
 *
 * For sample n with D = total input size, the input is tiled D times into a batch; since samples do
 * not interact, the gradient of sum_k y[k]_k (copy k's k-th output) with respect to the batch holds
 * row k of the Jacobian in copy k. One backward pass gives the whole D x D matrix, whose log|det| is
 * then taken in float64.
 */
import * as tf from '@tensorflow/tfjs';
import type { Context } from '../dsl/definition.js';
import { slogdet } from '../dsl/maths/linalg.js';
import type { ParamTree } from '../dsl/params.js';
import { sizeOf } from '../dsl/shape.js';
import { signature } from '../dsl/signature.js';
import type { FlowSpec } from '../dsl/spec.js';
import { run, type Direction } from './transform.js';

/** The dense Jacobian of one sample's pass (row k: d out_k / d in), as a row-major Float64Array. */
export const denseJacobian = (
  spec: FlowSpec,
  params: ParamTree,
  xs: readonly tf.Tensor[],
  ctx: Context,
  sample: number,
  dir: Direction = 'forward',
): { jacobian: Float64Array; size: number } => {
  const sig = signature(spec);
  const inShapes = dir === 'forward' ? sig.ins : sig.outs;
  const size = inShapes.reduce((n, s) => n + sizeOf(s), 0);
  const jacobian = tf.tidy(() => {
    const tile = (t: tf.Tensor): tf.Tensor => {
      const rest = t.shape.slice(1).map(() => 0);
      return tf.tile(tf.slice(t, [sample, ...rest], [1, ...rest.map(() => -1)]), [size, ...rest.map(() => 1)]);
    };
    const tiled = xs.map(tile);
    const tiledCtx: Context = Object.fromEntries(Object.entries(ctx).map(([k, t]) => [k, tile(t)]));
    const selector = tf.eye(size);
    const f = (...inputs: tf.Tensor[]): tf.Scalar => {
      const { outs } = run(spec, params, inputs, tiledCtx, dir);
      const flat = tf.concat(outs.map((o) => tf.reshape(o, [size, -1])), 1);
      return tf.sum(tf.mul(flat, selector));
    };
    const grads = tf.grads(f)(tiled);
    return tf.concat(grads.map((g) => tf.reshape(g, [size, -1])), 1);
  });
  const values = Float64Array.from(jacobian.dataSync());
  jacobian.dispose();
  return { jacobian: values, size };
};

/** log|det J| per sample from the dense Jacobian (float64 determinant of a float32 Jacobian). */
export const referenceLogDet = (
  spec: FlowSpec,
  params: ParamTree,
  xs: readonly tf.Tensor[],
  ctx: Context = {},
  dir: Direction = 'forward',
): number[] => {
  const batch = xs[0]?.shape[0] ?? 0;
  return Array.from({ length: batch }, (_, n) => {
    const { jacobian, size } = denseJacobian(spec, params, xs, ctx, n, dir);
    return slogdet(jacobian, size).logAbsDet;
  });
};
