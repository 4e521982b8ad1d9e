/** `typed-flows fit`: a good run writes the model, report and picture; bad data and shapes exit 2. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsvPoints, parseJsonPoints } from '../../src/cli/points.js';
import * as tf from '@tensorflow/tfjs';
import { parseDistribution } from '../../src/distributions/codec.js';
import { decodeDistributionModel, logProb } from '../../src/distributions/index.js';
import { disposeParams } from '../../src/dsl/params.js';
import { decodeCheckpoint, disposeCheckpoint } from '../../src/io/checkpoint.js';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'cpu' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-fit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

// 400 deterministic points of a correlated Gaussian.
const rows = Array.from({ length: 400 }, (_, i) => {
  const u = Math.sin(i * 12.9898) * 43758.5453;
  const v = Math.sin(i * 78.233) * 12543.1234;
  const a = (u - Math.floor(u)) * 2 - 1;
  const b = (v - Math.floor(v)) * 2 - 1;
  return [1 + a + 0.5 * b, -2 + 0.5 * b];
});
const csv = `x,y\n${rows.map((r) => r.map((v) => v.toFixed(5)).join(',')).join('\n')}\n`;
const flow2 = JSON.stringify({ kind: 'chain', steps: [{ kind: 'actnorm', shape: [2] }, { kind: 'inv1x1LU', shape: [2] }, { kind: 'affine', shape: [2] }] });

describe('typed-flows fit', () => {
  it('fits a 2-D flow and writes model.safetensors, report.md, history.json and density.png', () => {
    const out = join(tmp, 'run');
    const r = cli('fit', '--flow', file('flow.json', flow2), '--data', file('points.csv', csv), '--steps', '60', '--eval-every', '20', '--lr', '0.01', '--output', out, '--quiet');
    expect(r.err).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/kept the parameters of step \d+: train NLL -?\d+\.\d+, validation NLL -?\d+\.\d+ nats per row at that step/);
    // The model and both baselines, scored on the validation rows with standard errors.
    expect(r.out).toMatch(/validation NLL -?\d+\.\d+ ± \d+\.\d+ nats per row \(100 rows\): flow/);
    expect(r.out).toMatch(/\(100 rows\): Gaussian \(full covariance\)/);
    expect(r.out).toMatch(/\(100 rows\): best Gaussian mixture \(k = \d+ of 1\.\.10/);
    // The paired difference is the difference of the two means (each printed to 4 decimals).
    const nlls = [...r.out.matchAll(/validation NLL (-?\d+\.\d+) ± \d+\.\d+ nats per row \(100 rows\)/g)].map((m) => Number(m[1]));
    const paired = [...r.out.matchAll(/the model minus this: (-?\d+\.\d+) ± (\d+\.\d+)/g)].map((m) => Number(m[1]));
    expect(paired.length).toBe(2);
    paired.forEach((d, i) => expect(Math.abs(d - ((nlls[0] as number) - (nlls[i + 1] as number)))).toBeLessThan(2e-4));
    for (const f of ['model.safetensors', 'report.md', 'history.json', 'density.png', 'density.svg']) expect(existsSync(join(out, f))).toBe(true);
    // The picture is a plot with axes, a colour scale in nats, and titled panels beside the best mixture.
    const svg = readFileSync(join(out, 'density.svg'), 'utf8');
    for (const text of ['log p (nats)', 'data', 'model', 'samples from the model', 'best Gaussian mixture (k = ']) expect(svg).toContain(text);
    // The baseline comparison: one row per model, its axis in nats per row.
    const comparison = readFileSync(join(out, 'baselines.svg'), 'utf8');
    for (const text of ['held-out NLL (nats per row)', 'Gaussian (full covariance)', 'best Gaussian mixture', 'lower is better']) expect(comparison).toContain(text);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('![held-out NLL of the model and its baselines](baselines.png)');
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/\| train \(step \d+\) \| -?\d+\.\d{4} \|/);
    expect(report).toMatch(/\| validation \(step \d+\) \| -?\d+\.\d{4} \|/);
    expect(report).toContain('400 rows of event shape [2], 300 for training and 100 for validation');
    expect(report).toMatch(/\| Gaussian \(full covariance\) \| -?\d+\.\d{4} \| \d+\.\d{4} \|/);
    const bytes = readFileSync(join(out, 'model.safetensors'));
    const ckpt = decodeCheckpoint(bytes);
    const dist = parseDistribution(ckpt.specJson);
    expect(E.isRight(dist) && dist.right.kind).toBe('standardized');
    expect([...ckpt.params.keys()]).toContain('base.flow.1.logS'); // inv1x1LU trained (its diagonal has a gradient)
    expect([...ckpt.params.keys()]).toContain('events.0.location');
    disposeCheckpoint(ckpt);
    // The model loads back and evaluates: its NLL on the training rows is near the reported one.
    const model = decodeDistributionModel(bytes);
    const lp = logProb(model.dist, model.params)(tf.tensor2d(rows));
    const nll = -tf.mean(lp).dataSync()[0]!;
    expect(Math.abs(nll - (model.config as { trainNll: number }).trainNll)).toBeLessThan(0.1);
    disposeParams(model.params);
    const png = readFileSync(join(out, 'density.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('a CSV with a bad row exits 2 naming the line', () => {
    const bad = csv.split('\n');
    bad[5] = '0.3,abc';
    const r = cli('fit', '--flow', file('flow-b.json', flow2), '--data', file('bad.csv', bad.join('\n')), '--output', join(tmp, 'bad'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.csv:6: field 2 \("abc"\) is not a finite number/);
    const short = csv.split('\n');
    short[9] = '0.3';
    const r2 = cli('fit', '--flow', file('flow-c.json', flow2), '--data', file('short.csv', short.join('\n')), '--output', join(tmp, 'bad'));
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/short\.csv:10: expected 2 comma-separated numbers \(as in the header\), got 1 fields/);
  });

  it('a number past float32 in the data (1e39) or in --lr exits 2 naming where it is; nothing is written', () => {
    const out = join(tmp, 'huge');
    const lines = csv.split('\n');
    lines[3] = '1e39,0.5';
    const r = cli('fit', '--flow', file('flow-h.json', flow2), '--data', file('huge.csv', lines.join('\n')), '--output', out, '--steps', '1');
    expect(r.code, r.err).toBe(2);
    expect(r.err.trim()).toMatch(/^typed-flows: .*huge\.csv:4: field 1 \(column "x"\), 1e39, is outside float32's range/);
    const lr = cli('fit', '--flow', file('flow-h.json', flow2), '--data', file('points-h.csv', csv), '--output', out, '--lr', '1e39');
    expect(lr.code, lr.err).toBe(2);
    expect(lr.err).toContain("1e39 is outside float32's range");
    expect(existsSync(out)).toBe(false);
  });

  it('a spec whose input shape does not match the data width exits 2', () => {
    const flow3 = JSON.stringify({ kind: 'affine', shape: [3] });
    const r = cli('fit', '--flow', file('flow3.json', flow3), '--data', file('points2.csv', csv), '--output', join(tmp, 'mismatch'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('takes events of shape [3] (3 numbers per row) but');
    expect(r.err).toContain('has 2 numbers per row');
    expect(existsSync(join(tmp, 'mismatch'))).toBe(false);
  });
});

describe('typed-flows fit: presets, baselines, test rows, tails', () => {
  it('--flow gmm fits a mixture by EM and saves it; --test scores the test rows; the saved model gives the reported test NLL', () => {
    const out = join(tmp, 'gmm');
    const test = file('test.csv', `x,y\n${rows.slice(0, 50).map((r) => r.map((v) => (v + 0.01).toFixed(5)).join(',')).join('\n')}\n`);
    const r = cli('fit', '--flow', 'gmm', '--data', file('points-g.csv', csv), '--test', test, '--output', out, '--quiet');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const m = /test NLL (-?\d+\.\d+) ± (\d+\.\d+) nats per row \(50 rows\): Gaussian mixture \(EM, k = (\d+)\)/.exec(r.out);
    expect(m).not.toBeNull();
    const model = decodeDistributionModel(readFileSync(join(out, 'model.safetensors')));
    expect(model.dist.kind).toBe('standardized');
    const x = tf.tensor2d(rows.slice(0, 50).map((row) => row.map((v) => Number((v + 0.01).toFixed(5)))));
    const lp = logProb(model.dist, model.params)(x);
    const nll = -tf.mean(lp).dataSync()[0]!;
    // The printed value has 4 decimals.
    expect(Math.abs(nll - Number(m?.[1]))).toBeLessThan(1e-4);
    tf.dispose([x, lp]);
    disposeParams(model.params);
  });

  it('--no-standardize saves the bare distribution, and rows beyond the spline bound are warned about and reported', () => {
    const out = join(tmp, 'raw');
    // One column (no density picture: fast), scaled by 10: most rows lie beyond the nsf preset's
    // bound of 5 when not standardised.
    const wide = `x\n${rows.map((r) => (10 * (r[0] as number)).toFixed(4)).join('\n')}\n`;
    const r = cli('fit', '--flow', 'nsf', '--data', file('wide.csv', wide), '--no-standardize', '--steps', '4', '--eval-every', '2', '--output', out);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: \d+\.\d% of the training rows have a coordinate beyond the spline bound ±5, in its identity tails/);
    const model = decodeDistributionModel(readFileSync(join(out, 'model.safetensors')));
    expect(model.dist.kind).toBe('transformed');
    disposeParams(model.params);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/spline tails: \d+\.\d\d% of the training rows have a coordinate beyond ±5, where the splines are the identity — more than 1%/);
    // Standardised, the same rows are within ±5 standard deviations: no warning.
    const r2 = cli('fit', '--flow', 'nsf', '--data', file('wide2.csv', wide), '--steps', '4', '--eval-every', '2', '--output', join(tmp, 'std'));
    expect(r2.code).toBe(0);
    expect(r2.err).not.toMatch(/warning/);
  });

  it('--base gmm: the flow sits on a learnt mixture with the best baseline k, started by EM, so it starts near that baseline', () => {
    const out = join(tmp, 'gmm-base');
    const one = `x\n${rows.map((r) => (r[0] as number).toFixed(5)).join('\n')}\n`;
    const r = cli('fit', '--flow', 'maf', '--base', 'gmm', '--data', file('one.csv', one), '--steps', '4', '--eval-every', '2', '--output', out, '--quiet');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const model = decodeDistributionModel(readFileSync(join(out, 'model.safetensors')));
    const k = Number(/best Gaussian mixture \(k = (\d+)/.exec(r.out)?.[1]);
    const inner = model.dist.kind === 'standardized' ? model.dist.base : undefined;
    const base = inner?.kind === 'transformed' ? inner.base : undefined;
    expect(base).toEqual({ kind: 'gaussianMixture', shape: [1], components: k });
    disposeParams(model.params);
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as { validation: Array<{ step: number; nll: number }> };
    const gmm = Number(/Gaussian mixtures by EM on the training rows, validation NLL for k = 1\.\.10: ([-\d., ]+)\./.exec(readFileSync(join(out, 'report.md'), 'utf8'))?.[1]?.split(', ')[k - 1]);
    // At step 0 the flow is the identity on an EM fit of the same rows (another k-means++ seed): its
    // validation NLL is that mixture's, up to EM's local optimum (0.05 nats is generous for 1-D).
    expect(Math.abs((history.validation[0]?.nll as number) - gmm)).toBeLessThan(0.05);
  });

  it('an unknown preset exits 2 naming the presets', () => {
    const r = cli('fit', '--flow', 'nfs', '--data', file('points-u.csv', csv), '--output', join(tmp, 'typo'));
    expect(r.code).toBe(2);
    expect(r.err).toContain("--flow 'nfs' is neither a preset (nsf, maf, realnvp, cnf, gaussian, gmm) nor a spec file");
  });
});

describe('typed-flows fit cannot run', () => {
  it('an output folder that cannot be made is refused before training: exit 2 through a file (the path is wrong), 3 on /proc', () => {
    const blocker = file('not-a-folder', 'a file');
    const r = cli('fit', '--flow', file('flow-d.json', flow2), '--data', file('points3.csv', csv), '--output', join(blocker, 'out'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--output '.*not-a-folder\/out' goes through '.*not-a-folder', which is a file, not a folder/);
    const proc = cli('fit', '--flow', file('flow-d.json', flow2), '--data', file('points3.csv', csv), '--output', '/proc/x');
    expect(proc.code).toBe(3);
  });
});

describe('reading rows', () => {
  it('CSV: header, comments and blank lines; every row the same width', () => {
    const p = parseCsvPoints('# points\na,b\n\n1,2\n 3 , 4 \n', 'p.csv');
    expect([p.rows, p.width, p.columns, Array.from(p.values)]).toEqual([2, 2, ['a', 'b'], [1, 2, 3, 4]]);
    expect(() => parseCsvPoints('1,2\n3,NaN\n', 'p.csv')).toThrow(/p\.csv:2: field 2 \("NaN"\) is not a finite number/);
    expect(() => parseCsvPoints('1,2\n3,4,5\n', 'p.csv')).toThrow(/p\.csv:2: expected 2 comma-separated numbers \(as in the first row\), got 3 fields/);
    expect(() => parseCsvPoints('x,y\n', 'p.csv')).toThrow(/no rows/);
  });

  it('JSON: an array of rows; a bad row is named by the line it starts on', () => {
    const p = parseJsonPoints('[[1, 2],\n [3, 4]]', 'p.json');
    expect([p.rows, p.width, Array.from(p.values)]).toEqual([2, 2, [1, 2, 3, 4]]);
    expect(() => parseJsonPoints('[\n  [1, 2],\n  [3, 4],\n  [5, "x"]\n]', 'p.json')).toThrow(/p\.json:4 \(row 3\): entry 2 \("\\"x\\""\) is not a finite number/);
    expect(() => parseJsonPoints('[\n  [1, 2],\n  [3]\n]', 'p.json')).toThrow(/p\.json:3 \(row 2\): expected 2 numbers/);
    expect(() => parseJsonPoints('{"a": 1}', 'p.json')).toThrow(/expected a JSON array of rows/);
  });
});

describe('typed-flows fit --objective flow-matching', () => {
  it('trains the cnf preset by flow matching; the saved model is a cnf with finite log-densities', () => {
    const out = join(tmp, 'fm');
    const r = cli('fit', '--flow', 'cnf', '--objective', 'flow-matching', '--pairing', 'ot', '--data', file('fm.csv', csv), '--steps', '40', '--eval-every', '20', '--output', out, '--quiet');
    expect(r.err).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const val = Number(/validation NLL (-?\d+\.\d+) nats per row at that step/.exec(r.out)?.[1]);
    expect(Number.isFinite(val)).toBe(true);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('preset cnf for D = 2');
    expect(report).toContain('Flow matching (NLLs by exact likelihood); ');
    expect(report).toContain('objective: flow matching with minibatch optimal-transport pairing');
    // The model file holds a cnf whose log-density (an ODE solve) scores the validation rows as reported:
    // `logprob` on the model equals fit's number to its 4 printed decimals only if the same rows are used,
    // so here the check is that the model decodes and is a cnf with a finite log-density everywhere.
    const m = decodeDistributionModel(new Uint8Array(readFileSync(join(out, 'model.safetensors'))));
    expect(JSON.stringify(m.dist)).toContain('"kind":"cnf"');
    const x = tf.tensor2d(rows.slice(0, 8));
    const lp = Array.from(logProb(m.dist as never, m.params)(x as never).dataSync());
    lp.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    x.dispose();
    disposeParams(m.params);
  });

  it('refuses flow matching for a flow that does not end in a cnf, before any work (exit 2)', () => {
    const out = join(tmp, 'fm-bad');
    const r = cli('fit', '--flow', 'nsf', '--objective', 'flow-matching', '--data', file('fm2.csv', csv), '--steps', '5', '--output', out, '--quiet');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/flow matching trains a distribution .* whose flow is a cnf or a chain ending in one/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
