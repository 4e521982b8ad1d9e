/**
 * Channel permutations on the channel axis of any rank: y[c] = x[perm[c]]. log|det J| = 0. The
 * permutation is part of the spec, so a saved flow reproduces it exactly.
 */
import type * as t from 'io-ts';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { zeroLogDet } from '../../algebra/ops.js';
import { primitive } from '../primitive.js';
import { listOf, nodeCodec, num, shapeCodec } from '../codec-parts.js';
import { defineBijector, movesElements, noParams, shapePreserving } from '../definition.js';
import { seededRandom, shuffledIndices } from '../random.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('permute', { shape: shapeCodec(), perm: listOf('a list of channel indices', num) });
/** The JSON spec of a `permute` node: event shape and the channel permutation. */
export type PermuteSpec = t.TypeOf<typeof codec>;

/** Permutes the channels of events of `shape`: y[c] = x[perm[c]], `perm` a permutation of 0..C-1. */
export const permute = <const S extends Shape>(shape: S, perm: readonly number[]): Bijector<S, S> => primitive(permuteDefinition, { kind: 'permute', shape, perm: [...perm] });

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

/** The `permute` kind: no parameters (the permutation is in the spec). */
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
  ...algebraic<PermuteSpec>({
    forward: unaryAlgebra((o, { perm }, _p, x) => ({ out: o.gatherLast(x, perm), logDet: zeroLogDet(o, x) })),
    inverse: unaryAlgebra((o, { perm }, _p, y) => ({ out: o.gatherLast(y, inversePermutation(perm)), logDet: zeroLogDet(o, y) })),
  }),
  inverseCost: 'analytic',
});
