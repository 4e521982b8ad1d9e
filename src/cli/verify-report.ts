/** Rendering `verify` results for people (a table) and machines (JSON). */
import type { VerifyReport } from '../interpreters/verify.js';

export interface VerifyRun {
  readonly seed: number;
  readonly report: VerifyReport;
}

const fmt = (x: number): string => (x === 0 ? '0' : Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toPrecision(3));

export const renderVerify = (file: string, runs: readonly VerifyRun[]): string => {
  const names = [...new Set(runs.flatMap((r) => r.report.checks.map((c) => c.name)))];
  const lines = names.map((name) => {
    const checks = runs.flatMap((r) => r.report.checks.filter((c) => c.name === name).map((c) => ({ ...c, seed: r.seed })));
    const worst = checks.reduce((a, b) => (b.worst > a.worst || !Number.isFinite(b.worst) ? b : a));
    const failed = checks.filter((c) => !c.passed);
    const mark = failed.length === 0 ? 'ok  ' : 'FAIL';
    const where = failed.length === 0 ? '' : `  (seed ${failed.map((c) => c.seed).join(', ')}: ${worst.detail})`;
    return `  ${mark} ${name.padEnd(20)} worst ${fmt(worst.worst).padStart(9)}  tolerance ${fmt(worst.tolerance)}${where}`;
  });
  const passed = runs.every((r) => r.report.passed);
  return [
    `verify ${file}: ${runs.length} run(s), seeds ${runs.map((r) => r.seed).join(', ')}`,
    ...lines,
    passed ? 'all checks passed' : 'FAILED: the flow is not a valid bijector with the log-det it reports (see above)',
  ].join('\n');
};

export const verifyJson = (file: string, backend: string, runs: readonly VerifyRun[]): string =>
  JSON.stringify({ spec: file, backend, passed: runs.every((r) => r.report.passed), runs }, null, 2);
