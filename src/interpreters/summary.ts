/** The summary interpreter: a layer table with shapes and parameter counts, like Keras's summary(). */
import { fold, type FoldTable } from '../dsl/fold.js';
import { countParams, flattenShapes } from '../dsl/params.js';
import { definitionOf } from '../dsl/registry.js';
import { formatShape } from '../dsl/shape.js';
import { signature } from '../dsl/signature.js';
import type { FlowSpec } from '../dsl/spec.js';
import { paramInfo } from './param-shapes.js';

/** One line of a flow's summary: a node, its depth, kind, input and output shapes and parameter count. */
export interface SummaryRow {
  /** Dotted path of the node in the params tree ('' for the root). */
  readonly path: string;
  readonly depth: number;
  readonly kind: string;
  readonly input: string;
  readonly output: string;
  /** Trainable parameters of this node and everything under it. */
  readonly params: number;
  /** Cost of the forward and inverse passes: one pass each, or sequential (an autoregressive inverse: one pass per dimension). */
  readonly forwardCost: Cost;
  readonly inverseCost: Cost;
  /** Vector-field evaluations per pass of this node's ODE layers (0 without any; the most, for adaptive solvers). */
  readonly evaluations: number;
}

/** One closed-form pass, an ODE solve (a continuous flow), or one pass per dimension (an autoregressive inverse). */
export type Cost = 'analytic' | 'integrated' | 'sequential';

const shapesText = (shapes: readonly (readonly number[])[]): string => shapes.map(formatShape).join(' ');

/** A node's rows (its own first, then its children's one level deeper) and its trainable parameter count. */
interface Rows {
  readonly rows: readonly SummaryRow[];
  readonly params: number;
  readonly forwardCost: Cost;
  readonly inverseCost: Cost;
  readonly evaluations: number;
}

/** The costliest of several passes run in sequence: sequential, then integrated, then analytic. */
export const worstCost = (costs: readonly Cost[]): Cost => (costs.includes('sequential') ? 'sequential' : costs.includes('integrated') ? 'integrated' : 'analytic');

const ownRow = (spec: FlowSpec, path: string, params: number, forwardCost: Cost, inverseCost: Cost, evaluations: number): SummaryRow => {
  const sig = signature(spec);
  return { path, depth: 0, kind: spec.kind === 'repeat' ? `repeat x${spec.n}` : spec.kind, input: shapesText(sig.ins), output: shapesText(sig.outs), params, forwardCost, inverseCost, evaluations };
};

const deeper = (rows: readonly SummaryRow[]): SummaryRow[] => rows.map((r) => ({ ...r, depth: r.depth + 1 }));

const withChildren = (spec: FlowSpec, path: string, children: readonly Rows[], params: number, copies = 1, swap = false): Rows => {
  const forwardCost = worstCost(children.map((c) => (swap ? c.inverseCost : c.forwardCost)));
  const inverseCost = worstCost(children.map((c) => (swap ? c.forwardCost : c.inverseCost)));
  const evaluations = copies * children.reduce((n, c) => n + c.evaluations, 0);
  return { rows: [ownRow(spec, path, params, forwardCost, inverseCost, evaluations), ...deeper(children.flatMap((c) => c.rows))], params, forwardCost, inverseCost, evaluations };
};

// Structural and folding a repeat's body once, so a summary costs what the distinct layers cost.
const rowTable: FoldTable<never, Rows> = {
  repeatOnce: true,
  primitive: (spec, { paramPath }) => {
    const { shapes, frozen } = definitionOf(spec).params;
    const fixed = new Set(frozen);
    const params = flattenShapes(shapes(spec))
      .filter(([name]) => !fixed.has(name.split('.')[0] ?? ''))
      .reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
    const definition = definitionOf(spec);
    const evaluations = definition.evaluations?.(spec as never) ?? 0;
    const forwardCost: Cost = evaluations > 0 ? 'integrated' : 'analytic';
    const inverseCost: Cost = evaluations > 0 ? 'integrated' : definition.inverseCost;
    return { outs: undefined, result: { rows: [ownRow(spec, paramPath, params, forwardCost, inverseCost, evaluations)], params, forwardCost, inverseCost, evaluations } };
  },
  sequence: (children, { paramPath }, spec) => {
    const copies = spec.kind === 'repeat' ? spec.n : 1;
    return withChildren(spec, paramPath, children, children.reduce((n, c) => n + c.params, 0) * copies, copies);
  },
  parallel: (branches, { paramPath }, spec) => withChildren(spec, paramPath, branches, branches.reduce((n, c) => n + c.params, 0)),
  invert: (body, { paramPath }, spec) => withChildren(spec, paramPath, [body], body.params, 1, true),
};

/** Number of trainable parameters of a spec. */
export const parameterCount = (spec: FlowSpec): number => fold(spec, rowTable).result.params;

/** One row per node, in order; `repeat` shows its body once with the count. */
export const summaryRows = (spec: FlowSpec): SummaryRow[] => [...fold(spec, rowTable).result.rows];

/**
 * The summary as an aligned text table, ending with the total parameter count. The last two columns
 * say what each direction costs: one pass, or sequential (an autoregressive inverse takes one pass per
 * dimension: MAF's sampling, IAF's density).
 */
export const summary = (spec: FlowSpec): string => {
  const rows = summaryRows(spec);
  const header = ['layer', 'kind', 'input', 'output', 'params', 'forward', 'inverse'];
  const cost = (c: Cost, evaluations: number): string => (c === 'analytic' ? 'one pass' : c === 'sequential' ? 'sequential' : `ODE, ${evaluations.toLocaleString('en-US')} evals`);
  const cells = rows.map((r) => [
    r.path === '' ? '$' : r.path,
    `${'  '.repeat(r.depth)}${r.kind}`,
    r.input,
    r.output,
    r.params.toLocaleString('en-US'),
    cost(r.forwardCost, r.evaluations),
    cost(r.inverseCost, r.evaluations),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]): string => c.map((v, i) => (i === 4 ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number))).join('  ').trimEnd();
  const total = rows[0]?.params ?? 0;
  const all = countParams(paramInfo(spec).map((p) => p.shape));
  const frozen = all - total;
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    '',
    `trainable parameters: ${total.toLocaleString('en-US')}${frozen > 0 ? ` (plus ${frozen.toLocaleString('en-US')} fixed)` : ''}`,
    ...(rows[0]?.inverseCost === 'sequential' ? ['the inverse (sampling, for a density flow) is sequential: one pass per dimension of an autoregressive layer'] : []),
    ...((rows[0]?.evaluations ?? 0) > 0 ? [`each pass solves ODEs: ${(rows[0]?.evaluations ?? 0).toLocaleString('en-US')} evaluations of vector fields (at most, for adaptive solvers)`] : []),
    ...(rows[0]?.forwardCost === 'sequential' ? ['the forward pass (density, for a sampling flow such as an IAF) is sequential: one pass per dimension of an autoregressive layer'] : []),
  ].join('\n');
};
