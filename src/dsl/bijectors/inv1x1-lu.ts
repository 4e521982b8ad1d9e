/**
 * Invertible 1x1 convolution with W = P L (U + diag(sign * exp(logS))) (Glow's LU form), on the channel
 * axis of any rank: P a fixed permutation, L unit lower triangular, U strictly upper triangular.
 * log|det J| = (number of positions) * sum(logS): no determinant needed. Initialised from the LU
 * factors of a random orthogonal matrix; P and sign stay fixed.
 */
import * as tf from '@tensorflow/tfjs';
import type * as t from 'io-ts';
import { primitive } from '../primitive.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { defineBijector, ontoReals, shapePreserving, unary } from '../definition.js';
import { inverseMatrixOf, mixChannels } from '../maths/channel-mix.js';
import { param, perSample } from '../maths/common.js';
import { luDecompose, randomOrthogonal } from '../maths/linalg.js';
import type { ParamRecord } from '../params.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';
import { positionsOf } from './inv1x1.js';

const codec = nodeCodec('inv1x1LU', { shape: shapeCodec() });
/** The JSON spec of an `inv1x1LU` node: its event shape. */
export type Inv1x1LUSpec = t.TypeOf<typeof codec>;

/** Invertible 1x1 convolution in Glow's LU form on events of `shape` (channels mixed at every position). */
export const inv1x1LU = <const S extends Shape>(shape: S): Bijector<S, S> => primitive(inv1x1LUDefinition, { kind: 'inv1x1LU', shape });

const mask = (c: number, keep: (i: number, j: number) => boolean): tf.Tensor2D =>
  tf.tensor2d(Float32Array.from({ length: c * c }, (_, k) => (keep(Math.floor(k / c), k % c) ? 1 : 0)), [c, c]);

/** W from its factors; only L, U and logS are trained (the masks keep them triangular). Exported for the ONNX exporter. */
export const inv1x1LUWeight = (p: ParamRecord, c: number): tf.Tensor2D => {
  const lower = tf.add(tf.mul(param(p, 'lower'), mask(c, (i, j) => i > j)), tf.eye(c));
  // eye * row-broadcast d puts d on the diagonal; tf.diag would do the same but has no gradient in tfjs 4.22.
  const diagonal = tf.mul(tf.eye(c), tf.expandDims(tf.mul(param(p, 'sign'), tf.exp(param(p, 'logS'))), 0));
  const upper = tf.add(tf.mul(param(p, 'upper'), mask(c, (i, j) => i < j)), diagonal);
  return tf.matMul(param<tf.Tensor2D>(p, 'permutation'), tf.matMul(lower, upper));
};

/** The `inv1x1LU` kind: fixed P and sign, trained L, U and logS (C x C, C the channels), and its maths. */
export const inv1x1LUDefinition = defineBijector<Inv1x1LUSpec>({
  kind: 'inv1x1LU',
  codec,
  ranks: 'any',
  signature: shapePreserving(),
  domain: ontoReals,
  params: {
    shapes: ({ shape: [c = 0] }) => ({ permutation: [c, c], sign: [c], lower: [c, c], upper: [c, c], logS: [c] }),
    init: ({ shape: [c = 0] }, { random }) => {
      // Factor a random orthogonal W0 = P^T L U (partial pivoting gives P W0 = L U).
      const { lu, perm } = luDecompose(randomOrthogonal(c, random), c);
      const at = (i: number, j: number): number => lu[i * c + j] as number;
      const permutation = Float32Array.from({ length: c * c }, (_, k) => (perm[k % c] === Math.floor(k / c) ? 1 : 0));
      const diag = Array.from({ length: c }, (_, i) => at(i, i));
      return {
        permutation: tf.tensor2d(permutation, [c, c]),
        sign: tf.tensor1d(diag.map(Math.sign)),
        lower: tf.tensor2d(Float32Array.from({ length: c * c }, (_, k) => (Math.floor(k / c) > k % c ? at(Math.floor(k / c), k % c) : 0)), [c, c]),
        upper: tf.tensor2d(Float32Array.from({ length: c * c }, (_, k) => (Math.floor(k / c) < k % c ? at(Math.floor(k / c), k % c) : 0)), [c, c]),
        logS: tf.tensor1d(diag.map((d) => Math.log(Math.abs(d)))),
      };
    },
    frozen: ['permutation', 'sign'],
    mixing: ['lower', 'upper'],
  },
  forward: unary(({ shape }, p, x) => ({
    out: mixChannels(x, inv1x1LUWeight(p, shape[0] as number)),
    logDet: perSample(x.shape[0] as number, tf.mul(tf.sum(param(p, 'logS')), positionsOf(shape))),
  })),
  inverse: unary(({ shape }, p, y) => {
    const c = shape[0] as number;
    // Cached per set of factor tensors, so W is not even rebuilt when they repeat (sampling).
    const keys = ['lower', 'upper', 'logS', 'permutation', 'sign'].map((k) => param(p, k));
    return {
      out: mixChannels(y, inverseMatrixOf(keys, () => inv1x1LUWeight(p, c), c)),
      logDet: perSample(y.shape[0] as number, tf.mul(tf.sum(param(p, 'logS')), -positionsOf(shape))),
    };
  }),
  inverseCost: 'analytic',
});
