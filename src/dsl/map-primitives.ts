/** A flow spec with each primitive layer replaced by `f(layer)`, its combinators kept as they are. */
import type { FlowSpec, PrimitiveSpec } from './spec.js';

/** `spec` with every primitive layer (each repeat body once) mapped by `f`. */
export const mapPrimitives = (spec: FlowSpec, f: (layer: PrimitiveSpec) => PrimitiveSpec): FlowSpec => {
  switch (spec.kind) {
    case 'chain':
      return { ...spec, steps: spec.steps.map((s) => mapPrimitives(s, f)) };
    case 'repeat':
    case 'invert':
      return { ...spec, body: mapPrimitives(spec.body, f) };
    case 'parallel':
      return { ...spec, branches: spec.branches.map((b) => mapPrimitives(b, f)) };
    default:
      return f(spec);
  }
};
