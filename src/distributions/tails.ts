/**
 * Where a spline's identity tails start to matter: a rational-quadratic spline is the identity outside
 * [-B, B], so rows whose (standardised) coordinates fall there are fitted by the layers around it
 * alone. `splineBound` finds the smallest B of a flow's spline layers (coupling or autoregressive);
 * `tailShare` is the share of rows with any coordinate beyond it. Measured at the flow's input: later
 * layers see transformed values, so this is what the first spline sees.
 */
import type { FlowSpec } from '../dsl/spec.js';
import { isRecord } from '../dsl/codec-parts.js';


/** The smallest spline bound anywhere in a flow spec, or undefined when it has no spline layer. */
export const splineBound = (flow: FlowSpec): number | undefined => {
  let least: number | undefined;
  const visit = (u: unknown): void => {
    if (Array.isArray(u)) u.forEach(visit);
    else if (isRecord(u)) {
      const spline = u['kind'] === 'splineCoupling' ? u : isRecord(u['transformer']) && u['transformer']['kind'] === 'spline' ? u['transformer'] : undefined;
      const b = spline?.['bound'];
      if (typeof b === 'number' && (least === undefined || b < least)) least = b;
      Object.values(u).forEach(visit);
    }
  };
  visit(flow);
  return least;
};

/** Share of the rows (n * d values, row-major) with some |coordinate| > bound. */
export const tailShare = (values: ArrayLike<number>, d: number, bound: number): number => {
  const n = values.length / d;
  let outside = 0;
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < d; j += 1) {
      if (Math.abs(values[i * d + j] as number) > bound) {
        outside += 1;
        break;
      }
    }
  }
  return n === 0 ? 0 : outside / n;
};
