/**
 * The unconditional multiscale encoder (docs/caflow.md §1), used for both Y (R) and W (T):
 * optional logit preprocessing, then per scale s one block
 *   squeeze, 2 x [ActNorm, Inv1x1Conv], depth x [ActNorm, Inv1x1Conv, AffineCoupling],
 * and after every block but the last a split: the first half leaves as latent z_s.
 * [C,H,W] -> z_0 [2C,H/2,W/2], ..., z_{n-2} [2^(n-1) C, H/2^(n-1), W/2^(n-1)], z_{n-1} [2^(n+1) C, H/2^n, W/2^n].
 */
import { actnorm, affineCoupling, chainOf, convNet, factorOut, inv1x1, logit, repeat, squeeze } from '../dsl/index.js';
import type { AnyFlow, CondShapes, Flow, Shape3, Shapes } from '../dsl/index.js';

/** The sizes of a multiscale encoder: scales, Glow steps per scale, hidden channels, logit preprocessing and soft clamp. */
export interface EncoderOptions {
  readonly scales: number;
  readonly depth: number;
  readonly hidden: number;
  readonly dequantize: boolean;
  readonly clamp: number;
}

const squeezed = ([c, h, w]: Shape3): Shape3 => [4 * c, h / 2, w / 2];

/** squeeze, 2 x [ActNorm, Inv1x1], depth x [ActNorm, Inv1x1, AffineCoupling]: [C,H,W] -> [4C,H/2,W/2]. */
const block = (shape: Shape3, o: EncoderOptions): AnyFlow => {
  const s = squeezed(shape);
  const mix = chainOf([actnorm(s), inv1x1(s)]);
  const step = chainOf([actnorm(s), inv1x1(s), affineCoupling(s, { net: convNet({ hidden: o.hidden }), clamp: o.clamp })]);
  return chainOf([squeeze(shape as Shape3 & unknown), repeat(mix, 2), ...(o.depth > 0 ? [repeat(step, o.depth)] : [])]);
};

const level = (shape: Shape3, scale: number, o: EncoderOptions): AnyFlow => {
  const out = squeezed(shape);
  if (scale === o.scales - 1) return block(shape, o);
  const rest = level([out[0] / 2, out[1], out[2]], scale + 1, o);
  return chainOf([block(shape, o), factorOut(out, rest as Flow<readonly [Shape3], Shapes, CondShapes>)]);
};

/** The encoder flow: one input [C,H,W], n latent outputs. */
export const encoderSpec = (shape: Shape3, o: EncoderOptions): AnyFlow => {
  const body = level(shape, 0, o);
  return o.dequantize ? chainOf([logit(shape), body]) : body;
};

/** The latent shapes of an encoder, coarse last (docs/caflow.md §1). */
export const encoderLatentShapes = ([c, h, w]: Shape3, scales: number): Shape3[] =>
  Array.from({ length: scales }, (_, s) =>
    s < scales - 1 ? ([2 ** (s + 1) * c, h / 2 ** (s + 1), w / 2 ** (s + 1)] as Shape3) : ([2 ** (scales + 1) * c, h / 2 ** scales, w / 2 ** scales] as Shape3),
  );
