/** The summary interpreter: a layer table with shapes and parameter counts, like Keras's summary(). */
import { formatShape } from '../dsl/shape.js';
import type { FlowSpec } from '../dsl/spec.js';
import { countParams } from './params.js';
import { paramInfo } from './param-shapes.js';
import { signature } from './shapes.js';

export interface SummaryRow {
  /** Dotted path of the node in the params tree ('' for the root). */
  readonly path: string;
  readonly depth: number;
  readonly kind: string;
  readonly input: string;
  readonly output: string;
  /** Parameters of this node and everything under it. */
  readonly params: number;
}

const shapesText = (shapes: readonly (readonly number[])[]): string => shapes.map(formatShape).join(' ');

/** Number of trainable parameters of a spec. */
export const parameterCount = (spec: FlowSpec): number =>
  paramInfo(spec)
    .filter((p) => p.trainable)
    .reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);

/** One row per node, in order; `repeat` shows its body once with the count. */
export const summaryRows = (spec: FlowSpec, path = '', depth = 0): SummaryRow[] => {
  const sig = signature(spec);
  const join = (k: string | number): string => (path === '' ? String(k) : `${path}.${k}`);
  const own: SummaryRow = {
    path,
    depth,
    kind: spec.kind === 'repeat' ? `repeat x${spec.n}` : spec.kind,
    input: shapesText(sig.ins),
    output: shapesText(sig.outs),
    params: parameterCount(spec),
  };
  switch (spec.kind) {
    case 'chain':
      return [own, ...spec.steps.flatMap((s, i) => summaryRows(s, join(i), depth + 1))];
    case 'parallel':
      return [own, ...spec.branches.flatMap((s, i) => summaryRows(s, join(i), depth + 1))];
    case 'repeat':
      return [own, ...summaryRows(spec.body, join('i'), depth + 1)];
    case 'invert':
      return [own, ...summaryRows(spec.body, path, depth + 1)];
    default:
      return [own];
  }
};

/** The summary as an aligned text table, ending with the total parameter count. */
export const summary = (spec: FlowSpec): string => {
  const rows = summaryRows(spec);
  const header = ['layer', 'kind', 'input', 'output', 'params'];
  const cells = rows.map((r) => [r.path === '' ? '$' : r.path, `${'  '.repeat(r.depth)}${r.kind}`, r.input, r.output, r.params.toLocaleString('en-US')]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]): string => c.map((v, i) => (i === 4 ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number))).join('  ').trimEnd();
  const total = parameterCount(spec);
  const all = countParams(paramInfo(spec).map((p) => p.shape));
  const frozen = all - total;
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    '',
    `trainable parameters: ${total.toLocaleString('en-US')}${frozen > 0 ? ` (plus ${frozen.toLocaleString('en-US')} fixed)` : ''}`,
  ].join('\n');
};

