/** Kernel of `inv1x1LU` (maths in src/dsl/bijectors/inv1x1.ts): W = P L (U + diag(sign * exp(logS))). */
import * as tf from '@tensorflow/tfjs';
import type { Inv1x1LUSpec } from '../../dsl/spec.js';
import { luDecompose, randomOrthogonal } from '../linalg.js';
import type { ParamRecord } from '../params.js';
import { inverseMatrixOf, mixChannels } from './channel-mix.js';
import { param, perSample } from './common.js';
import type { Kernel } from './kernel.js';

const mask = (c: number, keep: (i: number, j: number) => boolean): tf.Tensor2D =>
  tf.tensor2d(Float32Array.from({ length: c * c }, (_, k) => (keep(Math.floor(k / c), k % c) ? 1 : 0)), [c, c]);

/** W from its factors; only L, U and logS are trained (the masks keep them triangular). */
const weightOf = (p: ParamRecord, c: number): tf.Tensor2D => {
  const lower = tf.add(tf.mul(param(p, 'lower'), mask(c, (i, j) => i > j)), tf.eye(c));
  const diagonal = tf.diag(tf.mul(param(p, 'sign'), tf.exp(param(p, 'logS'))));
  const upper = tf.add(tf.mul(param(p, 'upper'), mask(c, (i, j) => i < j)), diagonal);
  return tf.matMul(param<tf.Tensor2D>(p, 'permutation'), tf.matMul(lower, upper));
};

export const inv1x1LUKernel: Kernel<Inv1x1LUSpec> = {
  paramShapes: ({ shape: [c] }) => ({ permutation: [c, c], sign: [c], lower: [c, c], upper: [c, c], logS: [c] }),
  frozen: ['permutation', 'sign'],
  init: ({ shape: [c] }, { random }) => {
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
  forward: ({ shape: [c, h, w] }, p, x) => ({
    out: mixChannels(x, weightOf(p, c)),
    logDet: perSample(x.shape[0], tf.mul(tf.sum(param(p, 'logS')), h * w)),
  }),
  inverse: ({ shape: [c, h, w] }, p, y) => ({
    // Cached per set of factor tensors, so W is not even rebuilt when they repeat (sampling).
    out: mixChannels(y, inverseMatrixOf(['lower', 'upper', 'logS', 'permutation', 'sign'].map((k) => param(p, k)), () => weightOf(p, c), c)),
    logDet: perSample(y.shape[0], tf.mul(tf.sum(param(p, 'logS')), -h * w)),
  }),
};
