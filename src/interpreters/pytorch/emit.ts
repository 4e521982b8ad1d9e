/**
 * The PyTorch exporter's fold: a spec to the Python expression that builds it (a structural fold, no
 * values), chains and repeats as `Chain` / `repeat`, parallels as `Parallel`, invert as `inverted`.
 * A spec (e.g. decoded from JSON) holding a kind the table has no lowering for is refused with its path.
 */
import { fold, type FoldTable, type Node } from '../../dsl/fold.js';
import type { PrimitiveSpec } from '../../dsl/registry.js';
import { signature } from '../../dsl/signature.js';
import type { FlowSpec } from '../../dsl/spec.js';
import type { Lowered, LoweringTable } from './lowerings.js';
import { pyCall, pyList, pyNumber } from './python.js';
import type { PartName } from './runtime.js';

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

const partsOf = (children: readonly Lowered[], own: readonly PartName[]): PartName[] => [...own, ...children.flatMap((c) => c.parts)];

const exportTable = (table: Partial<LoweringTable>): FoldTable<never, Lowered> => ({
  repeatOnce: true,
  primitive: (spec: PrimitiveSpec, node: Node<never>) => {
    const lower = Object.hasOwn(table, spec.kind) ? (table as Record<string, unknown>)[spec.kind] : undefined;
    if (typeof lower !== 'function') {
      throw new PyTorchExportError(node.path, `no PyTorch lowering for bijector kind '${spec.kind}' (this build of typed-flows cannot write it to PyTorch)`);
    }
    return (lower as (s: PrimitiveSpec, n: Node<never>) => ReturnType<LoweringTable['identity']>)(spec, node);
  },
  sequence: (children, _node, spec) =>
    spec.kind === 'repeat'
      ? { expr: pyCall('repeat', [pyNumber(spec.n), `lambda: ${(children[0] as Lowered).expr}`]), parts: partsOf(children, ['chain']) }
      : { expr: pyCall('Chain', [pyList(children.map((c) => c.expr))]), parts: partsOf(children, ['chain']) },
  parallel: (branches, _node, spec) => {
    const arities = spec.branches.map((b) => {
      const sig = signature(b);
      return `(${sig.ins.length}, ${sig.outs.length})`;
    });
    return { expr: pyCall('Parallel', [pyList(branches.map((b) => b.expr)), `[${arities.join(', ')}]`]), parts: partsOf(branches, ['parallel']) };
  },
  invert: (body) => ({ expr: pyCall('inverted', [body.expr]), parts: body.parts }),
});

/** The Python expression building `spec` (its parameter names those of `flattenParams`), and its parts. */
export const lowerFlow = (spec: FlowSpec, table: Partial<LoweringTable>, path = '$'): Lowered => {
  signature(spec); // refuses an ill-formed spec with its issues before anything is written
  return fold(spec, exportTable(table), { path }).result;
};
