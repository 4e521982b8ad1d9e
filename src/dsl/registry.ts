/**
 * The definitions of every primitive kind, collected from the registry module (src/dsl/bijectors/index.ts)
 * by what they are, so a new kind needs no line here. The spec union is derived from the same list.
 *
 * Collected on first use rather than at load: bijector modules import the shape rules, which read
 * this table, so reading it while the modules are still loading would see them half-initialised.
 */
import * as catalogue from './bijectors/index.js';
import type { BijectorDefinition } from './definition.js';

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

/** The spec of every registered kind (a union). */
export type PrimitiveSpec = {
  [K in DefinitionName]: Catalogue[K] extends BijectorDefinition<infer S> ? S : never;
}[DefinitionName];

export type PrimitiveKind = PrimitiveSpec['kind'];

/** A definition for the spec of kind K. */
export type DefinitionOf<K extends PrimitiveKind> = BijectorDefinition<Extract<PrimitiveSpec, { readonly kind: K }>>;

const isDefinition = (v: unknown): v is BijectorDefinition<PrimitiveSpec> =>
  typeof v === 'object' && v !== null && 'kind' in v && 'codec' in v && 'signature' in v && 'forward' in v && 'inverse' in v;

let table: ReadonlyMap<string, BijectorDefinition<PrimitiveSpec>> | undefined;

/** Every registered definition by kind, in registry order. */
export const definitions = (): ReadonlyMap<string, BijectorDefinition<PrimitiveSpec>> => {
  if (table === undefined) {
    const found = (Object.values(catalogue) as unknown[]).filter(isDefinition);
    if (found.length === 0) throw new Error('the bijector registry is not loaded yet (a bijector module used before src/dsl/bijectors/index.ts finished loading)');
    table = new Map(found.map((d) => [d.kind, d]));
  }
  return table as ReadonlyMap<string, BijectorDefinition<PrimitiveSpec>>;
};

/** The registered kinds, in registry order. */
export const primitiveKinds = (): readonly PrimitiveKind[] => [...definitions().keys()] as PrimitiveKind[];

export const isPrimitiveKind = (kind: unknown): kind is PrimitiveKind => typeof kind === 'string' && definitions().has(kind);

/** The definition of a primitive spec (the one cast linking a kind to its spec type). */
export const definitionOf = <S extends PrimitiveSpec>(spec: S): BijectorDefinition<S> => {
  const d = definitions().get(spec.kind);
  if (d === undefined) throw new TypeError(`unknown bijector kind '${spec.kind}'`);
  return d as unknown as BijectorDefinition<S>;
};
