/**
 * The base distribution kinds: each one definition (./definition.ts), listed once here. The spec
 * union, the codec and every interpreter reach a base through `baseDefinitionOf`.
 */
import type { DistributionDefinition } from './definition.js';
import { diagonalNormalDefinition, type DiagonalNormalSpec } from './diagonal-normal.js';
import { gaussianMixtureDefinition, type GaussianMixtureSpec } from './gaussian-mixture.js';
import { standardNormalDefinition, type StandardNormalSpec } from './standard-normal.js';
import { studentTDefinition, type StudentTSpec } from './student-t.js';

export type { StandardNormalSpec, DiagonalNormalSpec, GaussianMixtureSpec, StudentTSpec };

/** The spec of a base distribution: the union of every base kind's spec. */
export type BaseSpec = StandardNormalSpec | DiagonalNormalSpec | GaussianMixtureSpec | StudentTSpec;

/** Every base kind's definition, by kind. */
export const baseDefinitions: { readonly [K in BaseSpec['kind']]: DistributionDefinition<Extract<BaseSpec, { readonly kind: K }>> } = {
  standardNormal: standardNormalDefinition,
  diagonalNormal: diagonalNormalDefinition,
  gaussianMixture: gaussianMixtureDefinition,
  studentT: studentTDefinition,
};

/** The names of the base kinds. */
export const baseKinds = Object.keys(baseDefinitions) as BaseSpec['kind'][];

/** Whether `kind` names a base kind. */
export const isBaseKind = (kind: unknown): kind is BaseSpec['kind'] => typeof kind === 'string' && Object.hasOwn(baseDefinitions, kind);

/** The definition of a base spec's kind. */
export const baseDefinitionOf = <S extends BaseSpec>(spec: S): DistributionDefinition<S> => baseDefinitions[spec.kind] as unknown as DistributionDefinition<S>;
