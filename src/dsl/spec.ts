/**
 * The bijector spec: plain, immutable, JSON-serialisable data (a tagged union on `kind`).
 *
 * Primitive specs carry the event shape of their input ([C,H,W]); output shapes, parameter shapes and
 * every pass are derived from the spec by the interpreters. Combinators hold other specs.
 * `Flow<In, Out, Cond>` adds the shapes to the type (a phantom field that never exists at run time).
 */
import type { NetSpec } from '../layers/spec.js';
import type { CondShapes, NoCond, Shape3, Shapes } from './shape.js';

interface Primitive<K extends string> {
  readonly kind: K;
  /** Input event shape [C, H, W]. */
  readonly shape: Shape3;
}

/** y = x * exp(logScale) + shift, one parameter pair per element of the event. */
export interface AffineSpec extends Primitive<'affine'> {}
/** Per-channel y = (x + bias) * exp(logScale) with data-dependent initialisation. */
export interface ActNormSpec extends Primitive<'actnorm'> {}
/** Invertible 1x1 convolution y = W x at every pixel, W a full C x C matrix. */
export interface Inv1x1Spec extends Primitive<'inv1x1'> {}
/** Invertible 1x1 convolution with W = P L (U + diag(sign * exp(logS))). */
export interface Inv1x1LUSpec extends Primitive<'inv1x1LU'> {}

interface Conditioned {
  /** Named conditioning inputs (event shapes, same H and W as the flowing tensor). */
  readonly cond: CondShapes;
  readonly net: NetSpec;
}
/** y = [x1, x2 * exp(s) + t] with (s_raw, t) = NN([x1, cond...]) and s soft-clamped. */
export interface AffineCouplingSpec extends Primitive<'affineCoupling'>, Conditioned {
  readonly clamp: number;
}
/** y = [x1, x2 + t] with t = NN([x1, cond...]). */
export interface AdditiveCouplingSpec extends Primitive<'additiveCoupling'>, Conditioned {}
/** y = x * exp(s) + t with (s_raw, t) = NN(cond) (SRFlow's affine injector). */
export interface ConditionalAffineSpec extends Primitive<'conditionalAffine'>, Conditioned {
  readonly clamp: number;
}
/** Rational-quadratic spline coupling (Durkan et al. 2019) with linear tails outside [-bound, bound]. */
export interface SplineCouplingSpec extends Primitive<'splineCoupling'>, Conditioned {
  readonly bins: number;
  readonly bound: number;
}
/** 2x2 space-to-depth: [C,H,W] -> [4C,H/2,W/2]. */
export interface SqueezeSpec extends Primitive<'squeeze'> {}
/** 2x2 depth-to-space: [C,H,W] -> [C/4,2H,2W]. */
export interface UnsqueezeSpec extends Primitive<'unsqueeze'> {}
/** A fixed channel permutation: y[c] = x[perm[c]]. */
export interface PermuteSpec extends Primitive<'permute'> {
  readonly perm: readonly number[];
}
/** Data in [0, levels] to logits: y = logit(alpha/2 + (1-alpha) x / levels). */
export interface LogitSpec extends Primitive<'logit'> {
  readonly alpha: number;
  readonly levels: number;
}
export interface IdentitySpec extends Primitive<'identity'> {}
/** One tensor to two: the first `at` channels and the rest. */
export interface SplitSpec extends Primitive<'split'> {
  readonly at: number;
}
/** Two tensors to one, concatenated on channels. */
export interface ConcatSpec {
  readonly kind: 'concat';
  readonly shapes: readonly [Shape3, Shape3];
}

export type PrimitiveSpec =
  | AffineSpec
  | ActNormSpec
  | Inv1x1Spec
  | Inv1x1LUSpec
  | AffineCouplingSpec
  | AdditiveCouplingSpec
  | ConditionalAffineSpec
  | SplineCouplingSpec
  | SqueezeSpec
  | UnsqueezeSpec
  | PermuteSpec
  | LogitSpec
  | IdentitySpec;

export type MultiSpec = SplitSpec | ConcatSpec;

/** Steps applied one after another; each step's outputs are the next step's inputs. */
export interface ChainSpec {
  readonly kind: 'chain';
  readonly steps: readonly FlowSpec[];
}
/** `n` copies of `body` in sequence, each with its own parameters. */
export interface RepeatSpec {
  readonly kind: 'repeat';
  readonly n: number;
  readonly body: FlowSpec;
}
/** `body` run backwards: its inverse becomes the forward pass. */
export interface InvertSpec {
  readonly kind: 'invert';
  readonly body: FlowSpec;
}
/** Branches side by side: the inputs are dealt out in order, the outputs collected in order. */
export interface ParallelSpec {
  readonly kind: 'parallel';
  readonly branches: readonly FlowSpec[];
}

export type CombinatorSpec = ChainSpec | RepeatSpec | InvertSpec | ParallelSpec;

export type FlowSpec = PrimitiveSpec | MultiSpec | CombinatorSpec;
export type Kind = FlowSpec['kind'];

/** Conditional primitives: those with a `cond` field. */
export type ConditionedSpec = AffineCouplingSpec | AdditiveCouplingSpec | ConditionalAffineSpec | SplineCouplingSpec;

declare const flowTypes: unique symbol;

/**
 * A spec whose input shapes, output shapes and conditioning are known to the compiler.
 * The phantom field is never present at run time: a Flow is just its spec.
 */
export type Flow<In extends Shapes, Out extends Shapes, Cond extends CondShapes = NoCond> = FlowSpec & {
  readonly [flowTypes]?: { readonly in: In; readonly out: Out; readonly cond: Cond };
};

/** A flow from one tensor to one tensor. */
export type Bijector<In extends Shape3, Out extends Shape3, Cond extends CondShapes = NoCond> = Flow<
  readonly [In],
  readonly [Out],
  Cond
>;

export type AnyFlow = Flow<Shapes, Shapes, CondShapes>;

// Wrapped in [] so the FlowSpec union inside Flow does not distribute.
export type InOf<F> = [F] extends [Flow<infer I, Shapes, CondShapes>] ? I : never;
export type OutOf<F> = [F] extends [Flow<Shapes, infer O, CondShapes>] ? O : never;
export type CondOf<F> = [F] extends [Flow<Shapes, Shapes, infer C>] ? C : never;
