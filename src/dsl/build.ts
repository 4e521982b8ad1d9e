import { signature } from '../interpreters/shapes.js';
import type { CondShapes, Shapes } from './shape.js';
import type { Flow, FlowSpec } from './spec.js';

/**
 * Freezes a spec after checking it with the shape interpreter, so that dimensions only known at run
 * time (typed `number`) are checked when the flow is built. Throws a SpecError naming the bad node.
 */
export const built = <In extends Shapes, Out extends Shapes, Cond extends CondShapes>(spec: FlowSpec): Flow<In, Out, Cond> => {
  signature(spec);
  return Object.freeze(spec) as Flow<In, Out, Cond>;
};
