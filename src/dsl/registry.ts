/**
 * The definitions of every primitive kind, collected from the registry module (src/dsl/bijectors/index.ts)
 * by what they are, so a new kind needs no line here. The spec union is derived from the same list.
 *
 * Bijector modules do not import this module (a constructor checks its spec with its own definition,
 * src/dsl/primitive.ts), so the registry is complete when this module loads.
 */
import * as catalogue from './bijectors/index.js';
import type { BijectorDefinition } from './definition.js';
import { autoregressiveDefinition, couplingDefinition, type AutoregressiveSpec, type CouplingSpec } from './transformed.js';

type Catalogue = typeof catalogue;

/** The registry's exports that are definitions (by their name, `<kind>Definition`). */
type DefinitionName = Extract<keyof Catalogue, `${string}Definition`>;

/**
 * Compile-time check: every definition the registry exports is named `<kind>Definition`, since the spec
 * union below is read from those names (a misnamed one would run but be missing from the types).
 */
type DefinitionLike = { readonly codec: unknown; readonly signature: unknown; readonly forward: unknown; readonly inverse: unknown };
type Misnamed = { [K in keyof Catalogue]: Catalogue[K] extends DefinitionLike ? (K extends DefinitionName ? never : K) : never }[keyof Catalogue];
type MustBeNever<T extends never> = T;
export type RegistryNamingCheck = MustBeNever<Misnamed>;

/** The spec of every registered kind (a union): the registry's, then the layers generic over its transformers. */
export type PrimitiveSpec =
  | {
      [K in DefinitionName]: Catalogue[K] extends BijectorDefinition<infer S> ? S : never;
    }[DefinitionName]
  | CouplingSpec
  | AutoregressiveSpec;

/** The name of a primitive kind (every registered bijector). */
export type PrimitiveKind = PrimitiveSpec['kind'];

/** A definition for the spec of kind K. */
export type DefinitionOf<K extends PrimitiveKind> = BijectorDefinition<Extract<PrimitiveSpec, { readonly kind: K }>>;

const isDefinition = (v: unknown): v is BijectorDefinition<PrimitiveSpec> =>
  typeof v === 'object' && v !== null && 'kind' in v && 'codec' in v && 'signature' in v && 'forward' in v && 'inverse' in v;

const table: ReadonlyMap<string, BijectorDefinition<PrimitiveSpec>> = new Map(
  [...(Object.values(catalogue) as unknown[]), couplingDefinition, autoregressiveDefinition].filter(isDefinition).map((d) => [d.kind, d]),
);

/** Every registered definition by kind, in registry order. */
export const definitions = (): ReadonlyMap<string, BijectorDefinition<PrimitiveSpec>> => table;

/** The registered kinds, in registry order. */
export const primitiveKinds = (): readonly PrimitiveKind[] => [...definitions().keys()] as PrimitiveKind[];

export const isPrimitiveKind = (kind: unknown): kind is PrimitiveKind => typeof kind === 'string' && definitions().has(kind);

/** The definition of a primitive spec (the one cast linking a kind to its spec type). */
export const definitionOf = <S extends PrimitiveSpec>(spec: S): BijectorDefinition<S> => {
  const d = definitions().get(spec.kind);
  if (d === undefined) throw new TypeError(`unknown bijector kind '${spec.kind}'`);
  return d as unknown as BijectorDefinition<S>;
};
