/**
 * What one base distribution kind is, in one place (as src/dsl/definition.ts is for a bijector kind):
 * its JSON fields, its event shape rule, its parameters (shapes and initialisation), and its maths
 * written once on the op algebra (src/algebra/ops.ts), which every engine interprets:
 *
 * - `logProb`: log p(x) per sample ([N]);
 * - `fromNoise`: a draw x from noise (reparameterised: x is a function of the parameters and the
 *   noise), where `noise` lists the noise tensors and the law of each. The algebra has no random
 *   numbers, so each engine draws the noise from these laws itself (tfjs seeded, PyTorch with torch's
 *   generator, ONNX takes it as graph inputs); the laws' own parameters (a Student-t's degrees of
 *   freedom, a mixture's logits) are written on the algebra here too.
 *
 * The combinators `transformed` and `standardized` are not kinds: the fold over distributions
 * (src/distributions/fold.ts) handles them, and reaches a base through its definition.
 */
import type * as E from 'fp-ts/lib/Either.js';
import type * as tf from '@tensorflow/tfjs';
import type { Ops, ValueNode } from '../../algebra/ops.js';
import type { SpecIssue } from '../../dsl/errors.js';
import type { ParamTree, ShapeTree } from '../../dsl/params.js';
import type { Shape } from '../../dsl/shape.js';

/** The law one noise tensor follows; parameters are per element of the noise's event, computed on the algebra. */
export type NoiseLaw<S> =
  | { readonly kind: 'normal' }
  /** One-hot rows [N, K] (float) of a categorical draw with these logits [K]. */
  | {
      readonly kind: 'categorical';
      /** The categories' logits [K], written on the algebra from the base's parameters. */
      readonly logits: <T>(o: Ops<T>, spec: S, params: ValueNode<T>) => T;
    }
  /** Gamma(concentration, rate) per column; both [D]. */
  | {
      readonly kind: 'gamma';
      /** The shape parameter per column [D], written on the algebra. */
      readonly concentration: <T>(o: Ops<T>, spec: S, params: ValueNode<T>) => T;
      /** The rate parameter per column [D], written on the algebra. */
      readonly rate: <T>(o: Ops<T>, spec: S, params: ValueNode<T>) => T;
    };

/** The name of a noise input (ONNX inputs are named after it: noise, noise0, noise1, component, precision). */
export type NoiseName = 'noise' | 'component' | 'precision';

/** One noise tensor of a draw: its name, its event shape and its law. */
export interface NoiseSpec<S> {
  readonly name: NoiseName;
  readonly shape: Shape;
  readonly law: NoiseLaw<S>;
}

/** Initialisation arguments of a base: a seed, and a batch of what reaches the base (one tensor per event), if given. */
export interface BaseInitArgs {
  readonly seed: number;
  readonly data?: readonly tf.Tensor[];
}

/** Everything about one base distribution kind. */
export interface DistributionDefinition<S extends { readonly kind: string }> {
  readonly kind: S['kind'];
  /** The JSON fields besides `kind` (and `format` at the top level). */
  readonly fields: readonly string[];
  /** The spec from its JSON (fields checked, issues at paths under `path`). */
  readonly decode: (json: { readonly [k: string]: unknown }, path: string) => E.Either<SpecIssue[], S>;
  /** The spec as JSON, without `kind`. */
  readonly encode: (spec: S) => { readonly [k: string]: unknown };
  /** The event shapes; throws a SpecError naming the path of a bad field. */
  readonly events: (spec: S, path: string) => readonly Shape[];
  readonly params: {
    /** Shapes of the parameters (the tree `init` returns); all trainable. */
    readonly shapes: (spec: S) => ShapeTree;
    /** Fresh parameters (tfjs), fitted to `data` where the kind can be. */
    readonly init: (spec: S, args: BaseInitArgs) => ParamTree;
  };
  /** log p(xs) per sample [N]. */
  readonly logProb: <T>(o: Ops<T>, spec: S, params: ValueNode<T>, xs: readonly T[]) => T;
  /** The noise tensors a draw takes, in the order an engine draws them. */
  readonly noise: (spec: S) => readonly NoiseSpec<S>[];
  /** The draws from noise (one tensor per event). */
  readonly fromNoise: <T>(o: Ops<T>, spec: S, params: ValueNode<T>, noise: readonly T[]) => readonly T[];
}

/** Identity of a definition, with its spec type inferred. */
export const defineDistribution = <S extends { readonly kind: string }>(definition: DistributionDefinition<S>): DistributionDefinition<S> => definition;

/** A parameter node as a record (a kind's params), with a message when it is not one. */
export const recordOf = <T>(o: Ops<T>, node: ValueNode<T> | undefined, what: string): { readonly [key: string]: ValueNode<T> } => {
  if (node === undefined || o.isValue(node) || Array.isArray(node)) throw new TypeError(`distribution params: expected a record of parameters for ${what}`);
  return node as { readonly [key: string]: ValueNode<T> };
};

/** A parameter node as a list of `n` nodes (one per event tensor), with a message when it is not one. */
export const listOf = <T>(o: Ops<T>, node: ValueNode<T> | undefined, n: number, what: string): readonly ValueNode<T>[] => {
  if (node === undefined || o.isValue(node) || !Array.isArray(node) || node.length !== n) throw new TypeError(`distribution params: expected a list of ${n} parameter records for ${what}`);
  return node as readonly ValueNode<T>[];
};
