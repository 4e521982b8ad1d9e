/** Example flows shipped in examples/ (a test keeps the JSON files in sync with this code). */
import {
  actnorm,
  affineCoupling,
  chain,
  convNet,
  factorOut,
  inv1x1,
  logit,
  repeat,
  squeeze,
  type Shape3,
} from '../dsl/index.js';

const glowStep = <const S extends Shape3>(shape: S, hidden: number) =>
  chain(actnorm(shape), inv1x1(shape), affineCoupling(shape, { net: convNet({ hidden }) }));

/**
 * A two-scale Glow for 8-bit 3x8x8 images: logit preprocessing, then per scale squeeze and `depth`
 * Glow steps, with half the channels factored out after the first scale.
 */
export const smallGlow = (depth = 2, hidden = 16) =>
  chain(
    logit([3, 8, 8]),
    squeeze([3, 8, 8]),
    repeat(glowStep([12, 4, 4], hidden), depth),
    factorOut([12, 4, 4], chain(squeeze([6, 4, 4]), repeat(glowStep([24, 2, 2], hidden), depth))),
  );

export const examples = { 'glow.json': () => smallGlow() } as const;
