/** The command line: bad input gets a one-paragraph error and exit code 2; verify's report and exit codes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRunConfig, presets } from '../../src/experiments/config.js';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'cpu' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

describe('typed-flows verify / summary', () => {
  it('verifies the bundled example and prints a readable report', () => {
    const r = cli('verify', 'examples/glow.json', '--runs', '1');
    expect(r.code).toBe(0);
    expect(r.out).toContain('ok   log-det reference');
    expect(r.out).toContain('all checks passed');
  });

  it('--json prints machine-readable results', () => {
    const r = cli('verify', 'examples/glow.json', '--runs', '1', '--json');
    const parsed = JSON.parse(r.out) as { passed: boolean; runs: Array<{ report: { checks: Array<{ name: string }> } }> };
    expect(parsed.passed).toBe(true);
    expect(parsed.runs[0]?.report.checks.map((c) => c.name)).toContain('round trip');
  });

  it('a failing flow exits 1, naming the first bad layer, the cause and a remedy', () => {
    const bad = file('domain.json', JSON.stringify({ kind: 'chain', steps: [{ kind: 'affine', shape: [2] }, { kind: 'logit', shape: [2], alpha: 1e-5, levels: 256 }] }));
    const r = cli('verify', bad, '--runs', '1');
    expect(r.code).toBe(1);
    expect(r.out).toContain("cause: inputs left a layer's domain (first at $.steps[1])");
    expect(r.out).toContain('try: ');
    expect(r.out).toContain('--perturb');
    expect(r.out).not.toContain('not a valid bijector');
  });

  it('a logit at alpha 0.999 passes: its maths near p = 1/2 keeps the digits float32 has', () => {
    const tight = file('logit999.json', JSON.stringify({ kind: 'logit', shape: [2, 2, 2], alpha: 0.999, levels: 256 }));
    const r = cli('verify', tight, '--runs', '3');
    expect(r.code).toBe(0);
    expect(r.out).toContain('all checks passed');
  });

  it('--reference float64 adds a check of every layer against its float64 self; a bad engine name exits 2', () => {
    const ok = file('logit-exp.json', JSON.stringify({ kind: 'chain', steps: [{ kind: 'logit', shape: [2], alpha: 0.05, levels: 256 }, { kind: 'exp', shape: [2] }] }));
    const r = cli('verify', ok, '--runs', '1', '--reference', 'float64');
    expect(r.code).toBe(0);
    expect(r.out).toContain('ok   float64 reference');
    expect(cli('verify', ok, '--reference', 'float16').code).toBe(2);
  });

  it('a flow above the dense-Jacobian limit says which check was not run and why', () => {
    const wide = file('wide.json', JSON.stringify({ kind: 'actnorm', shape: [300] }));
    const r = cli('verify', wide, '--runs', '1', '--max-reference-size', '0');
    expect(r.code).toBe(0);
    expect(r.out).toContain('not run:');
    expect(r.out).toContain('300 dimensions per sample is above the dense-Jacobian limit of 0');
  });

  it('a spec with a misspelt kind exits 2 naming the node', () => {
    const bad = file('bad.json', JSON.stringify({ kind: 'chain', steps: [{ kind: 'squeeze', shape: [3, 8, 8] }, { kind: 'actnrom', shape: [12, 4, 4] }] }));
    const r = cli('summary', bad);
    expect(r.code).toBe(2);
    expect(r.err).toContain("$.steps[1].kind: unknown kind 'actnrom'");
  });

  it('a missing file exits 2 and says what to pass', () => {
    const r = cli('summary', join(tmp, 'nope.json'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('does not exist');
  });
});

describe('typed-flows train / eval', () => {
  it('an invalid config exits 2 listing every bad field', () => {
    const bad = { ...presets['mnist-sr'], task: 'deblur', train: { ...presets['mnist-sr']!.train, steps: -3 } };
    const r = cli('train', '--config', file('config.json', JSON.stringify(bad)), '--out', tmp);
    expect(r.code).toBe(2);
    expect(r.err).toContain('task');
    expect(r.err).toContain('steps');
  });

  it('an unknown preset and a missing run exit 2', () => {
    expect(cli('train', '--preset', 'mnist-deblur', '--out', tmp).code).toBe(2);
    const r = cli('eval', '--name', 'no-such-run', '--out', tmp);
    expect(r.code).toBe(2);
    expect(r.err).toContain('There is no run');
  });
});

describe('run configs', () => {
  it('every preset is a valid config', () => {
    for (const p of Object.values(presets)) expect(E.isRight(decodeRunConfig(JSON.parse(JSON.stringify(p))))).toBe(true);
  });

  it('reports each wrong field by name', () => {
    const r = decodeRunConfig({ ...presets['mnist-sr'], size: 0, model: { ...presets['mnist-sr']!.model, variant: 'glow' } });
    expect(E.isLeft(r) && r.left.join('\n')).toMatch(/size: expected positive integer, got 0/);
    expect(E.isLeft(r) && r.left.join('\n')).toMatch(/model\.variant/);
  });
});
