/** The studio's text panels as HTML: a spec's issues, its layer table, verify's verdicts (every value escaped). */
import type { SpecIssue } from '../../../src/index.js';
import type { layerTable } from './spec.js';
import type { VerifyVerdict } from './protocol.js';

export const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

/** Each issue with the path of its node first. */
export const issuesHtml = (issues: readonly SpecIssue[]): string =>
  `<div class="issues" data-testid="spec-issues">${issues
    .map((i) => `<div data-testid="spec-issue" data-path="${escape(i.path)}"><code>${escape(i.path)}</code>: ${escape(i.message)}</div>`)
    .join('')}</div>`;

const cost = (c: string, evaluations: number): string => (c === 'analytic' ? 'one pass' : c === 'sequential' ? 'sequential' : `ODE, ${evaluations} evals`);

/** The valid spec's line and `summary`'s table of every flow in it: shapes, parameters, what density and sampling cost. */
export const layerTableHtml = (table: ReturnType<typeof layerTable>): { readonly check: string; readonly summary: string } => ({
  check: `<p class="ok" data-testid="spec-ok">✓ a valid distribution: ${table.params.toLocaleString('en-US')} trainable parameters over ${escape(table.base)}</p>`,
  summary:
    table.rows.length === 0
      ? '<p class="muted">No flow: the model is its base alone (fitted from EM\'s start by gradient steps).</p>'
      : `<table class="layers"><thead><tr><th>layer</th><th>kind</th><th>in</th><th>out</th><th>params</th><th>density</th><th>sampling</th></tr></thead><tbody>${table.rows
          .map(
            (r) =>
              `<tr><td>${escape(r.path === '' ? r.flow : `${r.flow}.${r.path}`)}</td><td>${'&nbsp;&nbsp;'.repeat(r.depth)}${escape(r.kind)}</td><td>${escape(r.input)}</td><td>${escape(r.output)}</td><td class="num">${r.params.toLocaleString('en-US')}</td><td>${cost(r.forwardCost, r.evaluations)}</td><td>${cost(r.inverseCost, r.evaluations)}</td></tr>`,
          )
          .join('')}</tbody></table>`,
});

const fmtError = (x: number): string => (x === 0 ? '0' : Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toPrecision(3));

/** verify's verdict line, one row per flow and law (worst error, tolerance, first failing layer; the detail on hover), and its notes. */
export const verdictsHtml = (verdicts: readonly VerifyVerdict[], notes: readonly string[]): string => {
  const passed = verdicts.every((v) => v.passed);
  const line = verdicts.length === 0 ? 'nothing to verify' : passed ? `✓ verify: all ${verdicts.length} checks passed` : `verify: ${verdicts.filter((v) => !v.passed).length} check(s) FAILED`;
  const table =
    verdicts.length === 0
      ? ''
      : `<table class="verdicts"><thead><tr><th>flow</th><th>law</th><th></th><th>worst</th><th>tolerance</th><th>first failing layer</th></tr></thead><tbody>${verdicts
          .map(
            (v) =>
              `<tr class="${v.passed ? '' : 'fail'}" data-testid="verdict" title="${escape(v.detail)}"><td>${escape(v.flow)}</td><td>${escape(v.law)}</td><td>${v.passed ? 'ok' : 'FAIL'}</td><td class="num">${fmtError(v.worst)}</td><td class="num">${fmtError(v.tolerance)}</td><td>${escape(v.layer ?? '')}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  return `<p class="${passed ? 'ok' : 'issues'}" data-testid="verify-verdict" data-passed="${passed}">${line}</p>${table}${notes.map((n) => `<p class="muted">${escape(n)}</p>`).join('')}`;
};
