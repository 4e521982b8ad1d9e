/**
 * The conditional flows G_i of CAFLOW (docs/caflow.md §2) and the Dual-Glow+ variant (§5).
 *
 * G_i maps the encoder latent L_i to standard normal latents, conditioned on squeeze(D_i) in its first
 * block g_I and on [squeeze(L_j), squeeze(D_j)] in the block g_S of each coarser scale j > i:
 *   block = squeeze, [ActNorm, Inv1x1], depth x [ActNorm, Inv1x1, ConditionalAffine(cond), AffineCoupling(cond)]
 * with a split after every block but the last. Dual-Glow+ keeps only g_I, unsplit.
 *
 * Conditioning inputs are named `D<j>` and `L<j>` and are the *squeezed* latents: the caller squeezes
 * them once (see `conditioningFor`).
 */
import { actnorm, affineCoupling, chainOf, conditionalAffine, convNet, factorOut, inv1x1, repeat, squeeze } from '../dsl/index.js';
import type { AnyFlow, CondShapes, Flow, Shape3, Shapes } from '../dsl/index.js';
import type { Variant } from './config.js';

/** The sizes of the conditional flows G_i: steps per block, hidden channels, soft clamp and variant. */
export interface ConditionalOptions {
  readonly depth: number;
  readonly hidden: number;
  readonly clamp: number;
  readonly variant: Variant;
}

/** The shape after one 2x2 squeeze: [C,H,W] -> [4C,H/2,W/2]. */
export const squeezedShape = ([c, h, w]: Shape3): Shape3 => [4 * c, h / 2, w / 2];

/** Name of the conditioning input holding the squeezed condition latent D_j. */
export const dName = (j: number): string => `D${j}`;
/** Name of the conditioning input holding the squeezed target latent L_j. */
export const lName = (j: number): string => `L${j}`;

const block = (shape: Shape3, cond: CondShapes, o: ConditionalOptions): AnyFlow => {
  const s = squeezedShape(shape);
  const net = convNet({ hidden: o.hidden });
  const step = chainOf([
    actnorm(s),
    inv1x1(s),
    conditionalAffine(s, { cond, net, clamp: o.clamp }),
    affineCoupling(s, { cond, net, clamp: o.clamp }),
  ]);
  return chainOf([squeeze(shape as Shape3 & unknown), actnorm(s), inv1x1(s), ...(o.depth > 0 ? [repeat(step, o.depth)] : [])]);
};

/**
 * G_i for component i, given the latent shapes of both encoders (index = scale).
 * Its inputs: [L_i]; its outputs: z_i^i, ..., z_i^{n-1} (one for Dual-Glow+); its conditioning:
 * D<i> and, for j > i, L<j> and D<j>, each squeezed.
 */
export const conditionalSpec = (i: number, lShapes: readonly Shape3[], dShapes: readonly Shape3[], o: ConditionalOptions): AnyFlow => {
  const n = lShapes.length;
  const li = lShapes[i] as Shape3;
  const first = { [dName(i)]: squeezedShape(dShapes[i] as Shape3) };
  if (o.variant === 'dualglow') return block(li, first, o);
  const level = (shape: Shape3, j: number): AnyFlow => {
    const cond = j === i ? first : { [lName(j)]: squeezedShape(lShapes[j] as Shape3), [dName(j)]: squeezedShape(dShapes[j] as Shape3) };
    const b = block(shape, cond, o);
    if (j === n - 1) return b;
    const out = squeezedShape(shape);
    const rest = level([out[0] / 2, out[1], out[2]], j + 1);
    return chainOf([b, factorOut(out, rest as Flow<readonly [Shape3], Shapes, CondShapes>)]);
  };
  return level(li, i);
};
