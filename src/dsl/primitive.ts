/**
 * How a primitive's constructor builds its spec: frozen (deeply) and checked with the kind's own
 * definition (its shape rule), so a bijector module needs neither the registry nor the combinators'
 * shape rules. Only the combinators (src/dsl/combinators.ts, src/dsl/build.ts) read the registry.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { BijectorDefinition } from './definition.js';
import { SpecError } from './errors.js';
import { deepFreeze } from './freeze.js';
import type { CondShapes, Shapes } from './shape.js';
import type { AnyFlow, Flow } from './spec.js';

/**
 * The spec, frozen and checked by `definition.signature`; throws a SpecError naming the bad field.
 * The definition is read when the constructor runs, so a module may define its constructor above it.
 */
export const primitive = <F extends AnyFlow, S extends { readonly kind: string }>(definition: BijectorDefinition<S>, spec: NoInfer<S>): F => {
  deepFreeze(spec);
  const result = definition.signature(spec, '$');
  if (E.isLeft(result)) throw new SpecError(result.left);
  return spec as unknown as F;
};

/** The inverse of a checked flow (its signature is the body's, reversed, so there is nothing to check). */
export const inverted = <I extends Shapes, O extends Shapes, C extends CondShapes>(body: Flow<I, O, C>): Flow<O, I, C> =>
  deepFreeze({ kind: 'invert', body }) as Flow<O, I, C>;
