/**
 * The commands that use a fitted model: `logprob --model` reproduces fit's held-out score and writes
 * per-row values, `sample --model` writes CSV draws (per context row for a conditional model), and
 * `c2st` compares two files; their mistakes exit 2 with a message.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'cpu' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-model-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

// 300 deterministic rows of two clusters, with a context column c that moves x.
const rows = Array.from({ length: 300 }, (_, i) => {
  const u = Math.sin(i * 12.9898) * 43758.5453;
  const v = Math.sin(i * 78.233) * 12543.1234;
  const a = (u - Math.floor(u)) * 2 - 1;
  const b = (v - Math.floor(v)) * 2 - 1;
  const c = i % 2 === 0 ? -1 : 1;
  return { x: [3 * c + a, 0.5 * b + c], c: [c] };
});
const csv = (rs: number[][], names: string[]): string => `${names.join(',')}\n${rs.map((r) => r.map((v) => v.toFixed(5)).join(',')).join('\n')}\n`;
const data = file('x.csv', csv(rows.map((r) => r.x), ['x', 'y']));
const context = file('c.csv', csv(rows.map((r) => r.c), ['c']));
const test = file('test.csv', csv(rows.slice(0, 60).map((r) => [r.x[0] as number, (r.x[1] as number) + 0.02]), ['x', 'y']));
const model = join(tmp, 'gmm', 'model.safetensors');
let reported: number;

beforeAll(() => {
  const r = cli('fit', '--flow', 'gmm', '--data', data, '--test', test, '--output', join(tmp, 'gmm'), '--quiet');
  expect(r.code).toBe(0);
  reported = Number(/test NLL (-?\d+\.\d+)/.exec(r.out)?.[1]);
});

describe('typed-flows logprob', () => {
  it("reproduces fit's test NLL, as text and --json, and writes per-row log p whose mean is minus it", () => {
    const text = cli('logprob', '--model', model, '--data', test);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^NLL -?\d+\.\d{4} ± \d+\.\d{4} nats per row \(60 rows\)/);
    const perRow = join(tmp, 'rows.csv');
    const json = cli('logprob', '--model', model, '--data', test, '--json', '--per-row', perRow);
    const r = JSON.parse(json.out) as { nll: number; standardError: number; rows: number };
    expect(Object.keys(r)).toEqual(['nll', 'standardError', 'rows']);
    expect(r.rows).toBe(60);
    // fit printed 4 decimals.
    expect(Math.abs(r.nll - reported)).toBeLessThan(1e-4);
    // The table's first line marks it as typed-flows' own (the output rule), then the header.
    const [mark, header, ...values] = readFileSync(perRow, 'utf8').trim().split('\n');
    expect(mark).toMatch(/^# written by typed-flows logprob/);
    expect(header).toBe('logp');
    const lp = values.map(Number);
    expect(lp.length).toBe(60);
    const mean = lp.reduce((a, b) => a + b, 0) / 60;
    expect(Math.abs(-mean - r.nll)).toBeLessThan(1e-9);
    const sd = Math.sqrt(lp.reduce((a, b) => a + (b - mean) ** 2, 0) / 59);
    expect(r.standardError).toBeCloseTo(sd / Math.sqrt(60), 9);
  });

  it('a wrong width, a missing model file or a context for an unconditional model exit 2', () => {
    const wide = file('wide.csv', 'a,b,c\n1,2,3\n');
    expect(cli('logprob', '--model', model, '--data', wide).err).toMatch(/has 3 numbers per row; the model takes 2/);
    const missing = cli('logprob', '--model', join(tmp, 'nope.safetensors'), '--data', test);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/does not exist/);
    expect(cli('logprob', '--model', model, '--data', test, '--context', context).err).toMatch(/not conditional; drop --context/);
  });
});

describe('typed-flows sample --model and c2st', () => {
  it('writes --count draws as CSV; c2st tells them from a shifted copy of the data but not much from the data', () => {
    const draws = join(tmp, 'draws.csv');
    const r = cli('sample', '--model', model, '--count', '300', '--output', draws, '--seed', '3');
    expect(r.code).toBe(0);
    const lines = readFileSync(draws, 'utf8').trim().split('\n').filter((l) => !l.startsWith('#'));
    expect(lines[0]).toBe('x0,x1');
    expect(lines.length).toBe(301);
    const same = cli('c2st', data, draws, '--json');
    expect(same.code).toBe(0);
    const acc = (JSON.parse(same.out) as { accuracy: number }).accuracy;
    const shifted = file('shifted.csv', csv(rows.map((row) => [(row.x[0] as number) + 3, row.x[1] as number]), ['x', 'y']));
    const far = (JSON.parse(cli('c2st', shifted, draws, '--json').out) as { accuracy: number }).accuracy;
    // A mixture fitted to two well-separated blobs is hard to tell from them; a shift by one
    // cluster width is easy.
    expect(acc).toBeLessThan(0.7);
    expect(far).toBeGreaterThan(0.8);
    expect(cli('c2st', data, context).err).toMatch(/same columns/);
  });

  it('a conditional fit (--context) then sample --model --context: --count draws per context row, near each context', () => {
    const out = join(tmp, 'cond');
    const f = cli('fit', '--flow', 'realnvp', '--data', data, '--context', context, '--steps', '150', '--eval-every', '50', '--lr', '5e-3', '--output', out, '--quiet');
    expect(f.err).toBe('');
    expect(f.code).toBe(0);
    const cm = join(out, 'model.safetensors');
    expect(cli('sample', '--model', cm, '--count', '5', '--output', join(tmp, 'no.csv')).err).toMatch(/conditional \(on 'context', 1 numbers per row\); pass its rows with --context/);
    const draws = join(tmp, 'cond-draws.csv');
    const two = file('two.csv', 'c\n-1\n1\n');
    expect(cli('sample', '--model', cm, '--context', two, '--count', '100', '--output', draws).code).toBe(0);
    const xs = readFileSync(draws, 'utf8').trim().split('\n').filter((l) => !l.startsWith('#')).slice(1).map((l) => Number(l.split(',')[0]));
    expect(xs.length).toBe(200);
    const meanOf = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    // The context moves x by 3 c: the draws for c = -1 sit left of those for c = 1.
    expect(meanOf(xs.slice(100)) - meanOf(xs.slice(0, 100))).toBeGreaterThan(3);
    const lp = cli('logprob', '--model', cm, '--data', data, '--context', context, '--json');
    expect(lp.code).toBe(0);
    expect(Number.isFinite((JSON.parse(lp.out) as { nll: number }).nll)).toBe(true);
  });
});
