/**
 * Channel permutations on the channel axis of any rank: y[c] = x[perm[c]]. log|det J| = 0. The
 * permutation is part of the spec, so a saved flow reproduces it exactly.
 */
import * as tf from '@tensorflow/tfjs';
import type * as t from 'io-ts';
import { built } from '../build.js';
import { listOf, nodeCodec, num, shapeCodec } from '../codec-parts.js';
import { defineBijector, movesElements, noParams, shapePreserving, unary } from '../definition.js';
import { zeroLogDet } from '../maths/common.js';
import { seededRandom, shuffledIndices } from '../random.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('permute', { shape: shapeCodec(), perm: listOf('a list of channel indices', num) });
export type PermuteSpec = t.TypeOf<typeof codec>;

export const permute = <const S extends Shape>(shape: S, perm: readonly number[]): Bijector<S, S> => built({ kind: 'permute', shape, perm: [...perm] });

/** Reverses the channel order (RealNVP's alternation). */
export const reverse = <const S extends Shape>(shape: S): Bijector<S, S> =>
  permute(shape, Array.from({ length: shape[0] as number }, (_, i) => (shape[0] as number) - 1 - i));

/** A fixed random permutation drawn from `seed`. */
export const randomPermutation = <const S extends Shape>(shape: S, seed: number): Bijector<S, S> =>
  permute(shape, shuffledIndices(shape[0] as number, seededRandom(seed)));

const inversePermutation = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
};

export const permuteDefinition = defineBijector<PermuteSpec>({
  kind: 'permute',
  codec,
  ranks: 'any',
  signature: shapePreserving(undefined, ({ shape: [c = 0], perm }, path) => {
    const sorted = [...perm].sort((a, b) => a - b);
    return perm.length === c && sorted.every((v, i) => v === i) ? [] : [{ path: `${path}.perm`, message: `expected a permutation of 0..${c - 1}, got ${JSON.stringify(perm)}` }];
  }),
  domain: movesElements,
  params: noParams,
  forward: unary(({ perm }, _p, x) => ({ out: tf.gather(x, [...perm], x.rank - 1), logDet: zeroLogDet(x.shape[0] as number) })),
  inverse: unary(({ perm }, _p, y) => ({ out: tf.gather(y, inversePermutation(perm), y.rank - 1), logDet: zeroLogDet(y.shape[0] as number) })),
  inverseCost: 'analytic',
});
