/**
 * Elementwise transformers: bijections applied to every element of a tensor, each element with its
 * own parameters produced by a conditioner (a coupling's net, a MADE), as FlowJAX's and zuko's
 * transformers are. A transformer is a registered definition: its spec (`{ kind, ...fields }`), its
 * checks, how many values per element it reads and in which layout, and its maths written once on the
 * op algebra. Couplings (src/dsl/maths/coupling.ts) and autoregressive layers
 * (src/dsl/maths/autoregressive.ts) take any of them; the registered ones are the registry's
 * `<name>Transformer` exports (src/dsl/bijectors/index.ts).
 */
import type * as t from 'io-ts';
import type { Ops } from '../../algebra/ops.js';
import type { SpecIssue } from '../errors.js';

/**
 * Where the per-element values sit among the conditioner's output channels, for c elements per
 * position and m values per element:
 * - 'blocks': value j of every element together, channels j*c .. (j+1)*c - 1 (the affine's [s_raw, t]);
 * - 'elementMajor': the m values of element e together, channels e*m .. (e+1)*m - 1 (the spline's).
 */
export type ValueLayout = 'blocks' | 'elementMajor';

/** The result of a transformer on a batch: the transformed elements and log|det| per sample ([N]). */
export interface ElementwiseResult<T> {
  readonly out: T;
  readonly logDet: T;
}

/**
 * One direction of a transformer on the algebra. z: the elements, [N, ...dims]; raw: the
 * conditioner's output for them, [N, ...dims without the last, m * c] in the transformer's layout;
 * dims: z's tensor dimensions without the batch axis (channels last, c = the last), from the spec.
 */
export type ElementwiseMaths<F> = <T>(o: Ops<T>, fields: F, z: T, raw: T, dims: readonly number[]) => ElementwiseResult<T>;

/** An elementwise bijection whose per-element parameters come from a conditioner. */
export interface Transformer<F> {
  /** Its name as a transformer spec's `kind` (`{ kind: 'affine', clamp: 2 }`). */
  readonly kind: string;
  /** The exact codec of its transformer spec (`kind` and its own fields). */
  readonly codec: t.Type<F, unknown, unknown>;
  /** Values the conditioner gives per element. */
  readonly valuesPerElement: (fields: F) => number;
  readonly layout: ValueLayout;
  /** z -> (y, log|det dy/dz|) */
  readonly forward: ElementwiseMaths<F>;
  /** y -> (z, log|det dz/dy|) */
  readonly inverse: ElementwiseMaths<F>;
  /** Checks of its own fields; issues at `${at}.<field>`. A zero conditioner output must give the identity. */
  readonly checks: (fields: F, at: string) => SpecIssue[];
}

/** A transformer with the fields it runs with: their type is checked here and erased after. */
export interface BoundTransformer {
  readonly transformer: Transformer<unknown>;
  readonly fields: unknown;
}

/** `transformer` bound to `fields` of its own spec type. */
export const bindTransformer = <F>(transformer: Transformer<F>, fields: NoInfer<F>): BoundTransformer => ({ transformer: transformer as unknown as Transformer<unknown>, fields });

/** Identity of a transformer definition, with its fields' type inferred. */
export const defineTransformer = <F>(transformer: Transformer<F>): Transformer<F> => transformer;

/** The channels of the elements: the last tensor dimension. */
export const elementChannels = (dims: readonly number[]): number => dims[dims.length - 1] as number;

/** A 'blocks' conditioner output split into its m values per element, each [N, ...dims]. */
export const blocksOf = <T>(o: Ops<T>, raw: T, dims: readonly number[], m: number): T[] => o.splitLast(raw, Array<number>(m).fill(elementChannels(dims)));
