/**
 * CAFLOW as data: the two encoders and the conditional flows, each a FlowSpec a user can print,
 * change and serialise (docs/caflow.md §1-2, §5). The model's params mirror it: { R, T, G: [G_0..G_{n-1}] }.
 */
import { SpecError } from '../dsl/errors.js';
import type { AnyFlow, FlowSpec } from '../dsl/spec.js';
import { formatShape, type Shape3 } from '../dsl/shape.js';
import { signature } from '../dsl/signature.js';
import type { CaflowConfig, Variant } from './config.js';
import { conditionalSpec } from './conditional.js';
import { encoderLatentShapes, encoderSpec } from './encoder.js';

/** A CAFLOW model as data: the encoders R (of Y) and T (of W), the conditional flows G_i and the objective's lambda. */
export interface CaflowSpec {
  readonly kind: 'caflow';
  readonly variant: Variant;
  readonly lambda: number;
  /** R: Y -> D_0..D_{n-1}. */
  readonly encoderY: FlowSpec;
  /** T: W -> L_0..L_{n-1}. */
  readonly encoderW: FlowSpec;
  /** G_i: L_i -> latents, conditioned on the squeezed D_i (and L_j, D_j for j > i in CAFLOW). */
  readonly priors: readonly FlowSpec[];
}

/** Checks the sizes a config asks for, with a message that says what to change. */
export const checkConfig = (c: CaflowConfig): void => {
  const problems: string[] = [];
  const [, h, w] = c.target;
  const unit = 2 ** (c.scales + 1);
  if (!(Number.isInteger(c.scales) && c.scales >= 1)) problems.push(`scales must be a positive integer, got ${c.scales}`);
  else if (h % unit !== 0 || w % unit !== 0)
    problems.push(`an image of ${h}x${w} cannot be split into ${c.scales} scales: H and W must be divisible by 2^(scales+1) = ${unit}`);
  if (c.condition[1] !== h || c.condition[2] !== w)
    problems.push(`the condition ${formatShape(c.condition)} must have the target's height and width ${h}x${w}`);
  if (c.target[0] < 1 || c.condition[0] < 1) problems.push('channel counts must be positive');
  if (problems.length > 0) throw new SpecError(problems.map((message) => ({ path: '$.config', message })));
};

/** The CAFLOW model of a config (the config is checked first). */
export const caflowSpec = (c: CaflowConfig): CaflowSpec => {
  checkConfig(c);
  const enc = (hidden: number) => ({ scales: c.scales, depth: c.encoderDepth, hidden, dequantize: c.dequantize, clamp: c.clamp });
  const encoderY = encoderSpec(c.condition, enc(c.encoderHidden));
  const encoderW = encoderSpec(c.target, enc(c.encoderHidden));
  const lShapes = encoderLatentShapes(c.target, c.scales);
  const dShapes = encoderLatentShapes(c.condition, c.scales);
  const priors = Array.from({ length: c.scales }, (_, i) =>
    conditionalSpec(i, lShapes, dShapes, { depth: c.conditionalDepth, hidden: c.conditionalHidden, clamp: c.clamp, variant: c.variant }),
  );
  return Object.freeze({ kind: 'caflow', variant: c.variant, lambda: c.lambda, encoderY, encoderW, priors: Object.freeze(priors) });
};

/** Shapes that must be images [C,H,W] (CAFLOW's encoders and priors are image flows), or a SpecError. */
export const imageShapes = (shapes: readonly (readonly number[])[], what: string): readonly Shape3[] =>
  shapes.map((s, i) => {
    if (s.length !== 3) throw new SpecError([{ path: '$', message: `${what} ${i} is ${formatShape(s)}; CAFLOW needs image events [C,H,W]` }]);
    return s as Shape3;
  });

/** Latent shapes of the encoders as built (checked against the spec's own shape inference). */
export const latentShapes = (m: CaflowSpec): { L: readonly Shape3[]; D: readonly Shape3[] } => ({
  L: imageShapes(signature(m.encoderW).outs, 'latent of encoder T'),
  D: imageShapes(signature(m.encoderY).outs, 'latent of encoder R'),
});

/** The conditional flow G_i of a model. */
export const priorOf = (m: CaflowSpec, i: number): AnyFlow => m.priors[i] as AnyFlow;
