/** Rendering `verify` results for people (a table with causes and remedies) and machines (JSON). */
import type { Check, VerifyReport } from '../interpreters/verify.js';

export interface VerifyRun {
  readonly seed: number;
  readonly report: VerifyReport;
}

const fmt = (x: number): string => (x === 0 ? '0' : Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toPrecision(3));

const causeText = (c: Check): string => {
  switch (c.cause) {
    case 'domain':
      return "inputs left a layer's domain";
    case 'overflow':
      return 'values overflowed float32';
    case 'formula':
      return 'a layer fails the law on its own input';
    case 'solver':
      return "an ODE solver too coarse for its layer's field (the law fails in float64 too)";
    case 'precision':
      // A layer's precision failure is measured against its float64 self; a flow's is the sum of its layers'.
      return c.digitsLost === undefined
        ? 'float32 rounding accumulated over the layers'
        : `float32 precision at a layer that holds the law in float64 (${c.digitsLost.toFixed(1)} of 7.2 digits lost)`;
    default:
      return '';
  }
};

/** The verdict's last line: what kind of failure it was, not always "not a bijector". */
const verdict = (failed: readonly Check[]): string => {
  if (failed.length === 0) return 'all checks passed';
  const causes = new Set(failed.map((c) => c.cause));
  if (failed.some((c) => c.name === 'tensor leak')) return 'FAILED: a pass leaves tensors behind';
  if (causes.has('formula')) return 'FAILED: the flow is not a valid bijector with the log-det it reports (see the layer named above)';
  if (failed.every((c) => c.cause === 'precision' && c.digitsLost !== undefined))
    return 'FAILED: float32 precision, not a wrong formula: a layer is ill-conditioned at these values (see above; its maths holds in float64)';
  if (causes.has('domain') || causes.has('overflow'))
    return 'FAILED: with these random parameters and inputs, values leave a layer\'s valid range (see above); this may be the parameters rather than the flow: try a smaller --perturb';
  return 'FAILED: errors above tolerance, but no single layer is wrong (see above)';
};

export const renderVerify = (file: string, runs: readonly VerifyRun[]): string => {
  const names = [...new Set(runs.flatMap((r) => r.report.checks.map((c) => c.name)))];
  const lines = names.flatMap((name) => {
    const checks = runs.flatMap((r) => r.report.checks.filter((c) => c.name === name).map((c) => ({ ...c, seed: r.seed })));
    const worst = checks.reduce((a, b) => (b.worst > a.worst || !Number.isFinite(b.worst) ? b : a));
    const failed = checks.filter((c) => !c.passed);
    const mark = failed.length === 0 ? 'ok  ' : 'FAIL';
    const first = failed[0];
    const row = `  ${mark} ${name.padEnd(30)} worst ${fmt(worst.worst).padStart(9)}  tolerance ${fmt(worst.tolerance)}`;
    if (first === undefined) return [row];
    return [
      `${row}  (seed ${failed.map((c) => c.seed).join(', ')})`,
      `       ${first.detail}`,
      ...(first.cause === undefined ? [] : [`       cause: ${causeText(first)}${first.layer === undefined ? '' : ` (first at ${first.layer})`}`]),
      ...(first.remedy === undefined ? [] : [`       try: ${first.remedy}`]),
    ];
  });
  const notes = [...new Set(runs.flatMap((r) => r.report.notes))];
  const failed = runs.flatMap((r) => r.report.checks.filter((c) => !c.passed));
  return [
    `verify ${file}: ${runs.length} run(s), seeds ${runs.map((r) => r.seed).join(', ')}`,
    ...lines,
    ...(notes.length === 0 ? [] : ['  not run:', ...notes.slice(0, 8).map((n) => `    ${n}`), ...(notes.length > 8 ? [`    ... and ${notes.length - 8} more`] : [])]),
    verdict(failed),
  ].join('\n');
};

export const verifyJson = (file: string, backend: string, runs: readonly VerifyRun[]): string =>
  JSON.stringify({ spec: file, backend, passed: runs.every((r) => r.report.passed), runs }, null, 2);
