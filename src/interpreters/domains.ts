/**
 * Where a flow's inputs live: most bijectors take any real input, but `logit` takes data in
 * (0, levels). Used to draw valid random inputs for property tests and `typed-flows verify`.
 */
import type { FlowSpec } from '../dsl/spec.js';
import { signature } from './shapes.js';

export type Domain = { readonly kind: 'real' } | { readonly kind: 'interval'; readonly low: number; readonly high: number };

const real: Domain = { kind: 'real' };

/** The domain of each input of `spec` in the given direction (forward: its inputs; inverse: its outputs). */
export const domains = (spec: FlowSpec, dir: 'forward' | 'inverse' = 'forward'): Domain[] => {
  const sig = signature(spec);
  const arity = dir === 'forward' ? sig.ins.length : sig.outs.length;
  const all = (d: Domain): Domain[] => Array.from({ length: arity }, () => d);
  switch (spec.kind) {
    case 'chain': {
      const steps = dir === 'forward' ? spec.steps : [...spec.steps].reverse();
      return domains(steps[0] as FlowSpec, dir);
    }
    case 'repeat':
      return domains(spec.body, dir);
    case 'invert':
      return domains(spec.body, dir === 'forward' ? 'inverse' : 'forward');
    case 'parallel':
      return spec.branches.flatMap((b) => domains(b, dir));
    case 'logit':
      return all(dir === 'forward' ? { kind: 'interval', low: 0, high: spec.levels } : real);
    default:
      return all(real);
  }
};

/**
 * Whether the forward image of `spec` may be a strict subset of R^D: true when a `logit` runs forward
 * somewhere in it (it maps (0, levels) onto a bounded interval of logits).
 */
export const hasBoundedImage = (spec: FlowSpec, inverted = false): boolean => {
  switch (spec.kind) {
    case 'chain':
      return spec.steps.some((s) => hasBoundedImage(s, inverted));
    case 'parallel':
      return spec.branches.some((s) => hasBoundedImage(s, inverted));
    case 'repeat':
      return hasBoundedImage(spec.body, inverted);
    case 'invert':
      return hasBoundedImage(spec.body, !inverted);
    case 'logit':
      return !inverted;
    default:
      return false;
  }
};
