/** Example flows shipped in examples/ (a test keeps the JSON files in sync with this code). */
import {
  actnorm,
  affine,
  affineCoupling,
  chain,
  convNet,
  factorOut,
  inv1x1,
  inv1x1LU,
  logit,
  made,
  maskedAutoregressive,
  repeat,
  reverse,
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

/** A linear vector flow for 2-D points: with a standard normal base, a Gaussian of any mean and covariance. */
export const gaussian2d = () => chain(actnorm([2]), inv1x1LU([2]), affine([2]));

/**
 * A non-linear flow for 2-D points: each point is a [2,1,1] event (two channels at one pixel), so the
 * affine couplings' networks are 1x1 convolutions, i.e. small MLPs on one coordinate. `depth` steps of
 * actnorm, a 2x2 mixing and a coupling.
 */
export const coupling2d = (depth = 6, hidden = 32) =>
  repeat(chain(actnorm([2, 1, 1]), inv1x1LU([2, 1, 1]), affineCoupling([2, 1, 1], { net: convNet({ hidden, kernels: [1, 1, 1] }) })), depth);

/**
 * A MAF for 2-D points (Papamakarios et al. 2017): `depth` masked autoregressive layers with the affine
 * transformer, each followed by `reverse`, every MADE `hidden` wide (the flow of bench/density.ts).
 */
export const maf2d = (depth = 5, hidden = 64) =>
  repeat(chain(maskedAutoregressive([2], { net: made({ hidden: [hidden, hidden] }) }), reverse([2])), depth);

/**
 * The NSF counterpart (Durkan et al. 2019): the same with rational-quadratic spline transformers, 8 bins
 * on [-4, 4] and identity tails outside.
 */
export const nsf2d = (depth = 5, hidden = 64) =>
  repeat(chain(maskedAutoregressive([2], { net: made({ hidden: [hidden, hidden] }), transformer: 'spline', bins: 8, bound: 4 }), reverse([2])), depth);

export const examples = {
  'glow.json': () => smallGlow(),
  'gaussian-2d.json': () => gaussian2d(),
  'coupling-2d.json': () => coupling2d(),
  'maf-2d.json': () => maf2d(),
  'nsf-2d.json': () => nsf2d(),
} as const;
