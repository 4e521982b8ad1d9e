/**
 * Where a flow's values live, propagated through the whole flow by the fold: most bijectors take any
 * real input and map onto all reals, but `logit` takes (0, levels) and maps onto a bounded interval,
 * and an inverted logit (sigmoid) maps reals into (0, levels). Used to draw valid random inputs for
 * property tests and `typed-flows verify`.
 *
 * - `domains(spec, dir)`: what each input must lie in when the flow runs in `dir`, found by carrying
 *   the requirements back from the outputs (a fold in the other direction).
 * - `images(spec, dir)`: where the outputs lie, carried forward from those inputs.
 */
import { fold, flip, type Direction, type FoldTable } from '../dsl/fold.js';
import { intersect, real, type Domain } from '../dsl/definition.js';
import { definitionOf } from '../dsl/registry.js';
import { signature } from '../dsl/signature.js';
import type { FlowSpec, PrimitiveSpec } from '../dsl/spec.js';

export type { Domain } from '../dsl/definition.js';

const reals = (n: number): Domain[] => Array.from({ length: n }, () => real);

/** The domain a primitive's forward inputs have on their own (whatever follows). */
const ownInputDomain = (spec: PrimitiveSpec): readonly Domain[] => definitionOf(spec).domain.input(spec, reals(signature(spec).outs.length));

/** Values move; results are not needed. */
const noResult = { sequence: () => null, parallel: () => null, invert: () => null };

/**
 * Requirements carried backwards: folded against the run direction, so at each primitive `ins` holds
 * what its run outputs must satisfy and `outs` what its run inputs must.
 */
const requirementTable: FoldTable<Domain, null> = {
  ...noResult,
  primitive: (spec, node) => {
    const { domain } = definitionOf(spec);
    const needed = node.ins ?? [];
    // Run forward: inputs in the preimage of the needed outputs. Run inverse (its run outputs are its
    // forward inputs): the run inputs must be images of forward inputs that satisfy both constraints.
    const outs =
      flip(node.dir) === 'forward'
        ? domain.input(spec, needed)
        : domain.image(spec, ownInputDomain(spec).map((d, i) => intersect(d, needed[i] ?? real)));
    return { outs, result: null };
  },
};

/** Images carried forwards: at each primitive, `ins` holds where its run inputs lie. */
const imageTable: FoldTable<Domain, null> = {
  ...noResult,
  primitive: (spec, node) => {
    const { domain } = definitionOf(spec);
    const given = node.ins ?? [];
    return { outs: node.dir === 'forward' ? domain.image(spec, given) : domain.input(spec, given), result: null };
  },
};

/** The domain of each input of `spec` in the given direction (forward: its inputs; inverse: its outputs). */
export const domains = (spec: FlowSpec, dir: Direction = 'forward'): Domain[] => {
  const sig = signature(spec);
  const outputs = reals(dir === 'forward' ? sig.outs.length : sig.ins.length);
  return [...(fold(spec, requirementTable, { dir: flip(dir), ins: outputs }).outs ?? [])];
};

/** Where the outputs of `spec` lie, in the given direction, for inputs from `domains(spec, dir)`. */
export const images = (spec: FlowSpec, dir: Direction = 'forward'): Domain[] =>
  [...(fold(spec, imageTable, { dir, ins: domains(spec, dir) }).outs ?? [])];

/** Whether the forward image of `spec` may be a strict subset of R^D (e.g. a logit runs forward in it). */
export const hasBoundedImage = (spec: FlowSpec): boolean => images(spec, 'forward').some((d) => d.kind !== 'real');
