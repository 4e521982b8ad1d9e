/**
 * Channel permutations: y[c] = x[perm[c]]. log|det J| = 0. The permutation is part of the spec, so
 * a saved flow reproduces it exactly.
 */
import { built } from '../build.js';
import { seededRandom } from '../random.js';
import type { Shape3 } from '../shape.js';
import type { Bijector } from '../spec.js';

export const permute = <const S extends Shape3>(shape: S, perm: readonly number[]): Bijector<S, S> =>
  built({ kind: 'permute', shape, perm: [...perm] });

/** Reverses the channel order (RealNVP's alternation). */
export const reverse = <const S extends Shape3>(shape: S): Bijector<S, S> =>
  permute(shape, Array.from({ length: shape[0] }, (_, i) => shape[0] - 1 - i));

/** A fixed random permutation drawn from `seed` (Fisher-Yates). */
export const randomPermutation = <const S extends Shape3>(shape: S, seed: number): Bijector<S, S> => {
  const random = seededRandom(seed);
  const perm = Array.from({ length: shape[0] }, (_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
  }
  return permute(shape, perm);
};
