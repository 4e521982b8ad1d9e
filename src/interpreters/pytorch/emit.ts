/**
 * The PyTorch exporter's fold: a spec to the Python expression that builds it (a structural fold, no
 * values), chains and repeats as `Chain` / `repeat`, parallels as `Parallel`, invert as `inverted`. A
 * primitive is an instance of the class generated from its definition's algebra, or of its override
 * (overrides.ts); a spec (e.g. decoded from JSON) holding a kind with neither is refused with its path.
 */
import type { AlgebraBijector } from '../../algebra/ops.js';
import { fold, type FoldTable } from '../../dsl/fold.js';
import { definitionOf, type PrimitiveSpec } from '../../dsl/registry.js';
import { signature } from '../../dsl/signature.js';
import type { FlowSpec } from '../../dsl/spec.js';
import type { GeneratedClasses } from './generated-classes.js';
import { keptForSpeed, pytorchOverrides, type KeptForSpeed, type OverrideTable } from './overrides.js';
import { pyCall, pyList, pyNumber } from './python.js';

/** A spec the exporter cannot write, with the path of the node. */
export class PyTorchExportError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'PyTorchExportError';
  }
}

/** How the engine writes each kind: overrides, the overrides kept over an algebra, and where algebras come from. */
export interface PyTorchKinds {
  readonly overrides: OverrideTable;
  readonly keptForSpeed: KeptForSpeed;
  /** The algebra of a kind's definition, if it has one. */
  readonly algebraOf: (spec: PrimitiveSpec) => AlgebraBijector<PrimitiveSpec> | undefined;
}

/** The engine as shipped: the registry's definitions and the override table. */
export const pytorchKinds: PyTorchKinds = {
  overrides: pytorchOverrides,
  keptForSpeed,
  algebraOf: (spec) => definitionOf(spec).algebra,
};

/** The override of a kind, if the table has one. */
export const overrideOf = (kinds: PyTorchKinds, kind: string): ((spec: PrimitiveSpec) => string) | undefined => {
  const o = Object.hasOwn(kinds.overrides, kind) ? (kinds.overrides as Record<string, unknown>)[kind] : undefined;
  return typeof o === 'function' ? (o as (spec: PrimitiveSpec) => string) : undefined;
};

const exportTable = (kinds: PyTorchKinds, classes: GeneratedClasses): FoldTable<never, string> => ({
  repeatOnce: true,
  primitive: (spec, node) => {
    const algebra = kinds.algebraOf(spec);
    const override = overrideOf(kinds, spec.kind);
    const kept = Object.hasOwn(kinds.keptForSpeed, spec.kind);
    if (algebra !== undefined && !(kept && override !== undefined)) {
      return { outs: undefined, result: `${classes.classOf(definitionOf(spec), algebra, spec)}()` };
    }
    if (override !== undefined) return { outs: undefined, result: override(spec) };
    throw new PyTorchExportError(
      node.path,
      `no PyTorch code for bijector kind '${spec.kind}': its definition has no algebra to generate it from, and the PyTorch engine has no override for it`,
    );
  },
  sequence: (children, _node, spec) =>
    spec.kind === 'repeat' ? pyCall('repeat', [pyNumber(spec.n), `lambda: ${children[0] as string}`]) : pyCall('Chain', [pyList(children)]),
  parallel: (branches, _node, spec) => {
    const arities = spec.branches.map((b) => {
      const sig = signature(b);
      return `(${sig.ins.length}, ${sig.outs.length})`;
    });
    return pyCall('Parallel', [pyList(branches), `[${arities.join(', ')}]`]);
  },
  invert: (body) => pyCall('inverted', [body]),
});

/**
 * The Python expression building `spec` (its parameter names those of `flattenParams`); the classes it
 * instantiates are added to `classes`.
 */
export const lowerFlow = (spec: FlowSpec, classes: GeneratedClasses, path = '$', kinds: PyTorchKinds = pytorchKinds): string => {
  signature(spec); // refuses an ill-formed spec with its issues before anything is written
  return fold(spec, exportTable(kinds, classes), { path }).result;
};
