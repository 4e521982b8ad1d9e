/**
 * The PyTorch engine's overrides: kinds written as hand-written classes (py/overrides.py) rather than
 * generated from their definition's algebra. A kind whose definition has an `algebra` is generated
 * (generated-classes.ts) unless `keptForSpeed` names it with the reason; a kind with neither is
 * refused by the exporter with its spec path. Each override is checked against tfjs by
 * test/engines/pytorch-flows.test.ts, and test/engines/pytorch-lowering.test.ts fails if an override shadows an algebra
 * without a reason here.
 *
 * inv1x1LU is here because its tfjs passes are a listed override (src/algebra/overrides.ts): its
 * definition has no `algebra`.
 */
import type { PrimitiveKind, PrimitiveSpec } from '../../dsl/registry.js';
import { sizeOf, spatialOf } from '../../dsl/shape.js';
import { pyCall, pyNumber } from './python.js';

/** The Python expression building a node of kind K (a call of its class in py/overrides.py). */
export type Override<K extends PrimitiveKind> = (spec: Extract<PrimitiveSpec, { readonly kind: K }>) => string;

/** Overrides by kind: any subset of the kinds. */
export type OverrideTable = { readonly [K in PrimitiveKind]?: Override<K> };

/** Kinds whose override is used even though their definition has an algebra, each with the reason. */
export type KeptForSpeed = { readonly [K in PrimitiveKind]?: string };

/** The hand-written classes of the kinds not written on the algebra. */
export const pytorchOverrides: OverrideTable = {
  inv1x1LU: (s) => pyCall('Inv1x1LU', [pyNumber(s.shape[0] as number), pyNumber(sizeOf(spatialOf(s.shape)))]),
};

/** None yet: every override shadowing an algebra must be listed here with why it is kept. */
export const keptForSpeed: KeptForSpeed = {};
