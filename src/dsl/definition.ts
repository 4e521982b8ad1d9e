/**
 * What one bijector kind is, in one place: its spec fields (an io-ts codec), its shape rule and field
 * checks, the domain it takes and the image it gives, its parameters (shapes, initialisation, which
 * are fixed, which multiply the input), and its forward and inverse maths with log-dets, written once
 * on the op algebra (`algebra`, src/algebra/ops.ts) from which the tfjs passes are derived.
 *
 * Each kind is one module under src/dsl/bijectors exporting a `BijectorDefinition` (plus its typed
 * constructors); src/dsl/registry.ts lists them, and the spec union, the codec's dispatch, the shape
 * rules, domains and every interpreter's per-kind table are derived from that list. Every field is
 * required, so the compiler refuses a definition that lacks a part.
 *
 * Tensors are channels-last ([N, ...spatial, C]); log-dets are per sample ([N]). A pass takes and
 * returns lists of tensors, so splits and concatenations are ordinary bijectors.
 */
import type * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { AlgebraBijector } from '../algebra/ops.js';
import type { SpecIssue } from './errors.js';
import type { ParamRecord, ShapeRecord } from './params.js';
import { formatShape, isShape, shapeNotation, type CondShapes, type Shape } from './shape.js';

/** Conditioning tensors by name, channels-last. */
export type Context = { readonly [name: string]: tf.Tensor };

/** One pass of a bijector: its outputs and log|det| of the pass's Jacobian, per sample. */
export interface Pass {
  readonly outs: readonly tf.Tensor[];
  readonly logDet: tf.Tensor1D;
}

export interface InitArgs {
  /** Seeds for tf random ops, drawn from the interpreter's seeded stream. */
  readonly nextSeed: () => number;
  /** A JS uniform [0,1) stream from the same seed (for matrices built on the CPU). */
  readonly random: () => number;
  /** A batch at this layer's inputs for data-dependent initialisation, if one was given. */
  readonly data?: readonly tf.Tensor[];
  readonly ctx?: Context;
}

/** The input shapes, output shapes and conditioning of a flow. */
export interface Signature {
  readonly ins: readonly Shape[];
  readonly outs: readonly Shape[];
  readonly cond: CondShapes;
}

export type SignatureResult = E.Either<readonly SpecIssue[], Signature>;

/**
 * Where the values of one tensor live: all reals, an open interval (bounds may be infinite), or a
 * strict subset of the reals whose bounds depend on parameters (the image of an interval under an
 * affine map, say).
 */
export type Domain =
  | { readonly kind: 'real' }
  | { readonly kind: 'interval'; readonly low: number; readonly high: number }
  | { readonly kind: 'subset' };

export const real: Domain = { kind: 'real' };
export const subset: Domain = { kind: 'subset' };

/** The open interval (low, high); all reals when both ends are infinite. */
export const interval = (low: number, high: number): Domain => (low === -Infinity && high === Infinity ? real : { kind: 'interval', low, high });

/** The tighter of two domains (both constraints hold where one tensor carries both). */
export const intersect = (a: Domain, b: Domain): Domain => {
  if (a.kind === 'real') return b;
  if (b.kind === 'real') return a;
  if (a.kind === 'subset') return b;
  if (b.kind === 'subset') return a;
  return { kind: 'interval', low: Math.max(a.low, b.low), high: Math.min(a.high, b.high) };
};

/** The smallest domain holding both (one tensor made of elements from each). */
export const hull = (a: Domain, b: Domain): Domain => {
  if (a.kind === 'real' || b.kind === 'real') return real;
  if (a.kind === 'subset' || b.kind === 'subset') return subset;
  return { kind: 'interval', low: Math.min(a.low, b.low), high: Math.max(a.high, b.high) };
};

export interface DomainRule<S> {
  /**
   * What each input must lie in for the outputs to lie in `outputs`: the preimage (forward sense:
   * inputs are the forward inputs). A superset is allowed, but `real` only when the preimage is all of
   * R^D; `subset` where it depends on parameters.
   */
  readonly input: (spec: S, outputs: readonly Domain[]) => readonly Domain[];
  /**
   * Where the outputs lie when the inputs lie in `inputs`. A superset is allowed, but `real` only when
   * the image is all of R^D: verify draws inverse-pass inputs at random only there.
   */
  readonly image: (spec: S, inputs: readonly Domain[]) => readonly Domain[];
}

export interface ParamsRule<S> {
  /** Shapes of the parameters (the tree `init` returns). */
  readonly shapes: (spec: S) => ShapeRecord;
  readonly init: (spec: S, args: InitArgs) => ParamRecord;
  /** Names of parameters fixed after init (buffers, e.g. the LU permutation): never trained. */
  readonly frozen: readonly string[];
  /** Names of parameters that multiply the input (mixing matrices, conv kernels), for noise scaled by fan-in. */
  readonly mixing: readonly string[];
}

export type Maths<S> = (spec: S, params: ParamRecord, xs: readonly tf.Tensor[], ctx: Context) => Pass;

/** Everything about one primitive kind: its codec, accepted ranks, shapes, parameters, initialisation and maths (tfjs, and optionally the op algebra). */
export interface BijectorDefinition<S extends { readonly kind: string }> {
  /** The kind's name, as in the spec's `kind` field. */
  readonly kind: S['kind'];
  /** The exact codec of the spec (every field, `kind` included). */
  readonly codec: t.Type<S, unknown, unknown>;
  /** Event ranks the kind accepts ('any' for rank-generic kinds). */
  readonly ranks: 'any' | readonly number[];
  /** Checks the fields and infers the signature; issues name paths under `path`. */
  readonly signature: (spec: S, path: string) => SignatureResult;
  readonly domain: DomainRule<S>;
  readonly params: ParamsRule<S>;
  /**
   * The maths written once on the op algebra (src/algebra/ops.ts), which every engine interprets;
   * `forward` and `inverse` are then its tfjs passes (src/algebra/define.ts, `algebraic`). Kinds
   * without it are the listed overrides (src/algebra/overrides.ts for tfjs, with the reasons).
   */
  readonly algebra?: AlgebraBijector<S>;
  /** x -> (y, log|det dy/dx|). */
  readonly forward: Maths<S>;
  /** y -> (x, log|det dx/dy|). */
  readonly inverse: Maths<S>;
  /**
   * Whether the inverse is one closed-form pass or a sequential one (autoregressive: D passes of the
   * network, e.g. `maskedAutoregressive`). It describes the definition's own `inverse`: under `invert`
   * (an IAF) the sequential pass is the flow's forward.
   */
  readonly inverseCost: 'analytic' | 'sequential';
  /**
   * For kinds whose passes solve an ODE (`cnf`): evaluations of the vector field per pass (either
   * direction; the most an adaptive solver may take). Shown by `summary`; absent for closed-form kinds.
   */
  readonly evaluations?: (spec: S) => number;
}

/** Identity of a definition, with its spec type inferred. */
export const defineBijector = <S extends { readonly kind: string }>(definition: BijectorDefinition<S>): BijectorDefinition<S> => definition;

// ---------------------------------------------------------------------------------------------
// Common parts

/** A bijector without parameters. */
export const noParams: ParamsRule<unknown> = { shapes: () => ({}), init: () => ({}), frozen: [], mixing: [] };

/**
 * Maps R^D onto R^D and takes any real input (affine maps, couplings, mixing); a restricted input has
 * a restricted image whose bounds depend on the parameters.
 */
export const ontoReals: DomainRule<unknown> = {
  input: (_spec, outputs) => outputs.map((d) => (d.kind === 'real' ? real : subset)),
  image: (_spec, inputs) => inputs.map((d) => (d.kind === 'real' ? real : subset)),
};

/** Moves elements without changing values (permutations, squeezes): domains pass through unchanged. */
export const movesElements: DomainRule<unknown> = {
  input: (_spec, outputs) => outputs,
  image: (_spec, inputs) => inputs,
};

/** A single-tensor pass written on one tensor. */
export const unary =
  <S>(f: (spec: S, params: ParamRecord, x: tf.Tensor, ctx: Context) => { readonly out: tf.Tensor; readonly logDet: tf.Tensor1D }): Maths<S> =>
  (spec, params, xs, ctx) => {
    const { out, logDet } = f(spec, params, xs[0] as tf.Tensor, ctx);
    return { outs: [out], logDet };
  };

// ---------------------------------------------------------------------------------------------
// Shape rules

export const fail = (path: string, message: string): SignatureResult => E.left([{ path, message }]);

/** The signature of a node with one input and one output tensor (and optional conditioning). */
export const singleTensor = (input: Shape, output: Shape, cond: CondShapes = {}): SignatureResult => E.right({ ins: [input], outs: [output], cond });

/** Issues for a shape that is not an event shape of the accepted ranks. */
export const checkShape = (s: unknown, path: string, ranks?: readonly number[]): SpecIssue[] =>
  isShape(s, ranks) ? [] : [{ path, message: `expected ${shapeNotation(ranks)}, got ${JSON.stringify(s)}` }];

/** The shape rule of a kind that maps its event shape to itself, with optional extra field checks. */
export const shapePreserving =
  <S extends { readonly shape: Shape }>(ranks?: readonly number[], fields: (spec: S, path: string) => SpecIssue[] = () => []) =>
  (spec: S, path: string): SignatureResult => {
    const issues = [...checkShape(spec.shape, `${path}.shape`, ranks)];
    if (issues.length === 0) issues.push(...fields(spec, path));
    return issues.length > 0 ? E.left(issues) : singleTensor(spec.shape, spec.shape);
  };

/** A message naming a shape and what was wrong with it. */
export const shapeIssue = (path: string, what: string, s: Shape): SpecIssue => ({ path, message: `${what}, got ${formatShape(s)}` });
