/**
 * The bijector spec: plain, immutable, JSON-serialisable data (a tagged union on `kind`).
 *
 * Primitive specs are the registered kinds (src/dsl/bijectors, one module each); their union is derived
 * from the registry. Combinators hold other specs. `Flow<In, Out, Cond>` adds the event shapes to the
 * type (a phantom field that never exists at run time).
 */
import type { PrimitiveKind, PrimitiveSpec } from './registry.js';
import type { CondShapes, NoCond, Shape, Shapes } from './shape.js';

export type { PrimitiveKind, PrimitiveSpec } from './registry.js';
export type { AffineSpec } from './bijectors/affine.js';
export type { ActNormSpec } from './bijectors/actnorm.js';
export type { Inv1x1Spec } from './bijectors/inv1x1.js';
export type { Inv1x1LUSpec } from './bijectors/inv1x1-lu.js';
export type { AffineCouplingSpec } from './bijectors/affine-coupling.js';
export type { AdditiveCouplingSpec } from './bijectors/additive-coupling.js';
export type { ConditionalAffineSpec } from './bijectors/conditional-affine.js';
export type { SplineCouplingSpec } from './bijectors/spline-coupling.js';
export type { SqueezeSpec } from './bijectors/squeeze.js';
export type { UnsqueezeSpec } from './bijectors/unsqueeze.js';
export type { PermuteSpec } from './bijectors/permute.js';
export type { LogitSpec } from './bijectors/logit.js';
export type { IdentitySpec } from './bijectors/identity.js';
export type { SplitSpec } from './bijectors/split.js';
export type { ConcatSpec } from './bijectors/concat.js';

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

/** The JSON spec of a combinator node: chain, repeat, invert or parallel. */
export type CombinatorSpec = ChainSpec | RepeatSpec | InvertSpec | ParallelSpec;
/** The name of a combinator kind. */
export type CombinatorKind = CombinatorSpec['kind'];

/** The JSON spec of any flow node: a primitive or a combinator. */
export type FlowSpec = PrimitiveSpec | CombinatorSpec;
/** The name of any node kind, primitive or combinator. */
export type Kind = FlowSpec['kind'];

/** Primitives with conditioning inputs (a `cond` field). */
export type ConditionedSpec = Extract<PrimitiveSpec, { readonly cond: CondShapes }>;

/** Primitives with a `kind`, for narrowing. */
export type SpecOfKind<K extends PrimitiveKind> = Extract<PrimitiveSpec, { readonly kind: K }>;

declare const flowTypes: unique symbol;

/**
 * A spec whose input shapes, output shapes and conditioning are known to the compiler.
 * The phantom field is never present at run time: a Flow is just its spec.
 */
export type Flow<In extends Shapes, Out extends Shapes, Cond extends CondShapes = NoCond> = FlowSpec & {
  readonly [flowTypes]?: { readonly in: In; readonly out: Out; readonly cond: Cond };
};

/** A flow from one tensor to one tensor. */
export type Bijector<In extends Shape, Out extends Shape, Cond extends CondShapes = NoCond> = Flow<readonly [In], readonly [Out], Cond>;

/** A flow with its input, output and conditioning shapes erased (checked at run time instead). */
export type AnyFlow = Flow<Shapes, Shapes, CondShapes>;

// Wrapped in [] so the FlowSpec union inside Flow does not distribute.
/** The input event shapes of a flow type (one per tensor, channels first). */
export type InOf<F> = [F] extends [Flow<infer I, Shapes, CondShapes>] ? I : never;
/** The output event shapes of a flow type (one per tensor, channels first). */
export type OutOf<F> = [F] extends [Flow<Shapes, infer O, CondShapes>] ? O : never;
/** The conditioning shapes of a flow type (`{ name: shape }`). */
export type CondOf<F> = [F] extends [Flow<Shapes, Shapes, infer C>] ? C : never;

/** True when the spec is a combinator (chain, repeat, invert, parallel) rather than a primitive. */
export const isCombinator = (spec: FlowSpec): spec is CombinatorSpec =>
  spec.kind === 'chain' || spec.kind === 'repeat' || spec.kind === 'invert' || spec.kind === 'parallel';
