import { signature } from '../interpreters/shapes.js';
import type { CondShapes, Shapes } from './shape.js';
import type { Flow, FlowSpec } from './spec.js';

/**
 * Freezes a spec (deeply) and checks it with the shape interpreter, so that dimensions only known at run
 * time (typed `number`) are checked when the flow is built. Throws a SpecError naming the bad node.
 */
export const built = <In extends Shapes, Out extends Shapes, Cond extends CondShapes>(spec: FlowSpec): Flow<In, Out, Cond> => {
  deepFreeze(spec);
  signature(spec);
  return spec as Flow<In, Out, Cond>;
};

/** Freezes a spec and the arrays and records inside it (shapes, cond, perm), so a checked spec stays valid. */
const deepFreeze = (value: unknown): void => {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
};
