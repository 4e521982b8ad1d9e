import { deepFreeze } from './freeze.js';
import { signature } from './signature.js';
import type { CondShapes, Shapes } from './shape.js';
import type { Flow, FlowSpec } from './spec.js';

/**
 * Freezes a spec (deeply) and checks it with the shape rules, so that dimensions only known at run
 * time (typed `number`) are checked when the flow is built. Throws a SpecError naming the bad node.
 */
export const built = <In extends Shapes, Out extends Shapes, Cond extends CondShapes>(spec: FlowSpec): Flow<In, Out, Cond> => {
  deepFreeze(spec);
  signature(spec);
  return spec as Flow<In, Out, Cond>;
};
