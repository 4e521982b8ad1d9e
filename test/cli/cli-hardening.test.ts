/**
 * The command line as a new user meets it: bad input and bad paths get one short message and the
 * documented exit code (2 bad input or options, 3 could not run), never a stack trace, and nothing the
 * user wrote is overwritten.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvalResult } from '../../src/cli/commands/eval.js';
import { jsonTwin } from '../../src/cli/commands/report.js';

const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-harden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (args: readonly string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'cpu', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const noStack = (err: string): void => {
  expect(err).not.toMatch(/^\s+at /m);
  expect(err).not.toContain('node:internal');
};

const metrics = (name: string): EvalResult => ({
  name,
  variant: 'caflow',
  task: 'sr',
  step: 10,
  temperature: 0.5,
  samplesPerCondition: 3,
  conditionsScored: 4,
  seconds: 1,
  grid: join(tmp, 'runs', name, 'samples-t0.5.png'),
  bitsPerDim: 1.25,
  nll: { bitsPerDim: 1.25, standardError: 0.001, pairStandardError: 0.01, draws: 8, midBin: 0.9 },
  best: { rmse: 10, psnr: 20, ssim: 0.5 },
  diversity: 3,
  baseline: null,
  pairs: 20,
  lpips: null,
  fid: null,
  perceptual: { lpipsWeights: null, fidModel: null, fidRange: null, fidSamples: null, notComputed: [] },
});
mkdirSync(join(tmp, 'runs', 'a'), { recursive: true });
writeFileSync(join(tmp, 'runs', 'a', 'metrics.json'), JSON.stringify(metrics('a')));

describe('report --output', () => {
  it('puts the JSON twin beside any file name without overwriting the report', () => {
    expect(jsonTwin('r.md')).toBe('r.json');
    expect(jsonTwin('REPORT.MD')).toBe('REPORT.json');
    expect(jsonTwin('r.txt')).toBe('r.txt.json');
    expect(jsonTwin('r.json')).toBe('r.json.json');
    for (const name of ['r.txt', 'REPORT.MD']) {
      const output = join(tmp, name);
      const r = cli(['report', '--runs', 'a', '--out', join(tmp, 'runs'), '--output', output]);
      expect(r.code, r.err).toBe(0);
      expect(readFileSync(output, 'utf8')).toMatch(/^# typed-flows report/);
      // The NLL is the uniform-dequantisation bound with its standard error; the mid-bin figure is labelled.
      expect(readFileSync(output, 'utf8')).toContain('| 1.250 ± 0.010 |');
      expect(readFileSync(output, 'utf8')).toContain('Mid-bin cond. NLL (u = 0.5, not a bound; bits/dim): 0.900 (a).');
      expect(JSON.parse(readFileSync(jsonTwin(output), 'utf8'))).toHaveLength(1);
    }
  });

  it('a missing directory or a directory as the output: exit 2, one line naming it', () => {
    const missing = cli(['report', '--runs', 'a', '--out', join(tmp, 'runs'), '--output', '/missing/dir/r.md']);
    expect(missing.code).toBe(2);
    expect(missing.err.trim()).toBe("typed-flows: cannot write '/missing/dir/r.md': the directory '/missing/dir' does not exist; create it first or choose another path.");
    const dir = cli(['report', '--runs', 'a', '--out', join(tmp, 'runs'), '--output', tmp]);
    expect(dir.code).toBe(2);
    expect(dir.err).toContain('is a directory');
    noStack(dir.err);
  });
});

describe('options and backends', () => {
  it('option errors exit 2 (missing --name, --steps 0, --k 0)', () => {
    for (const args of [['eval'], ['train', '--preset', 'mnist-sr', '--steps', '0'], ['sample', '--name', 'x', '--k', '0']]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/^error: /);
      expect(r.err.split('\n').filter((l) => l.trim() !== '')).toHaveLength(2);
    }
  });

  it('an unavailable backend exits 3, an unknown one 2; one line, no stack trace', () => {
    const node = cli(['--backend', 'node', 'verify', 'examples/glow.json', '--runs', '1'], { TYPED_FLOWS_BACKEND: '' });
    expect(node.code).toBe(3);
    expect(node.err).toMatch(/^typed-flows: backend 'node' \(forced by --backend node\) is unavailable/);
    expect(node.err.trim().split('\n')).toHaveLength(1);
    const bogus = cli(['verify', 'examples/glow.json', '--runs', '1'], { TYPED_FLOWS_BACKEND: 'bogus' });
    expect(bogus.code).toBe(2);
    expect(bogus.err.trim()).toBe("typed-flows: unknown backend 'bogus' in TYPED_FLOWS_BACKEND; valid names are: auto, node-gpu, node, wasm, cpu.");
  });
});

describe('export --output', () => {
  it('an existing directory as the target: the error names it (exit 2), and nothing is left behind', async () => {
    const { writeCheckpointFile } = await import('../../src/node/checkpoint-file.js');
    const { describeError } = await import('../../src/cli/errors.js');
    const target = join(tmp, 'a-dir');
    mkdirSync(target);
    const e = await writeCheckpointFile(target, new Uint8Array([1, 2, 3])).then(
      () => undefined,
      (err: unknown) => err,
    );
    const r = describeError(e);
    expect(r.code).toBe(2);
    expect(r.message).toContain(`'${target}' is a directory`);
    expect(existsSync(target)).toBe(true);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('huge sizes are refused before anything is allocated', () => {
  const spec = (name: string, json: unknown): string => {
    const p = join(tmp, name);
    writeFileSync(p, JSON.stringify(json));
    return p;
  };

  it('verify of [3,100000,100000], of inv1x1 [1000000,1,1] and with --batch 1e8: exit 2 naming the limit', () => {
    for (const args of [
      ['verify', spec('wide.json', { kind: 'actnorm', shape: [3, 100000, 100000] })],
      ['verify', spec('inv.json', { kind: 'inv1x1', shape: [1000000, 1, 1] })],
      ['verify', 'examples/glow.json', '--batch', '100000000'],
    ]) {
      const r = cli(args);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(/^typed-flows: verify with --batch \d+ .* needs about .* of memory; the limit is .*TYPED_FLOWS_MAX_MEMORY/);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });

  it('summary of repeat n = 1e8 answers at once: exit 2 naming the layer limit', () => {
    const r = cli(['summary', spec('repeat.json', { kind: 'repeat', n: 100000000, body: { kind: 'actnorm', shape: [3, 8, 8] } })]);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('typed-flows: summary: the spec expands to 1.00e8 layers (its repeats multiply to 1.00e8 copies at $); the limit is 100,000 layers. Use a smaller repeat n.');
  });
});

describe('run names and configs', () => {
  it('train --name "" (or a path) is refused before anything is written', () => {
    const runs = join(tmp, 'names');
    for (const name of ['', '..', 'a/b']) {
      const r = cli(['train', '--preset', 'mnist-sr', '--name', name, '--out', runs]);
      expect(r.code, name).toBe(2);
      expect(r.err).toContain(`The run name ${JSON.stringify(name)}`);
      expect(r.err).not.toContain('using backend');
    }
    expect(existsSync(runs)).toBe(false);
  });

  it('a config with a __proto__ key or an unknown field is refused like a spec with one', async () => {
    const { presets } = await import('../../src/experiments/config.js');
    const text = JSON.stringify(presets['mnist-sr']).replace('{', '{"__proto__":{"polluted":1},').replace('"steps"', '"stpes":3,"steps"');
    const file = join(tmp, 'proto.json');
    writeFileSync(file, text);
    const r = cli(['train', '--config', file, '--out', join(tmp, 'proto-runs')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('  __proto__: not allowed (a prototype key)');
    expect(r.err).toContain('  train.stpes: unknown field');
    expect(existsSync(join(tmp, 'proto-runs'))).toBe(false);
  });
});

describe('small things a new user meets', () => {
  it('a spec saved with a UTF-8 byte-order mark reads like one without', () => {
    const file = join(tmp, 'bom.json');
    writeFileSync(file, `\uFEFF${readFileSync('examples/glow.json', 'utf8')}`);
    const r = cli(['summary', file]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('trainable parameters:');
  });

  it('so does a config file with one', async () => {
    const { presets } = await import('../../src/experiments/config.js');
    const { readRunConfig } = await import('../../src/cli/run-dir.js');
    const file = join(tmp, 'bom-config.json');
    writeFileSync(file, `\uFEFF${JSON.stringify(presets['mnist-sr'])}`);
    expect(await readRunConfig(file, { strict: true })).toEqual(presets['mnist-sr']);
  });

  it('--help lists the exit codes', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Exit codes: 0 ok, 1 a check failed, 2 bad input or options, 3 could not run');
  });

  it('a 200-deep path is shortened in messages, keeping its start and end', () => {
    const deep = join(tmp, ...Array.from({ length: 200 }, (_, i) => `d${i}`), 'spec.json');
    const r = cli(['summary', deep]);
    expect(r.code).toBe(2);
    expect(r.err.length).toBeLessThan(300);
    expect(r.err).toContain('…');
    expect(r.err).toContain('/d199/spec.json');
    expect(r.err).toContain('does not exist');
  });

  it('a spec nested 200 deep gets a short message naming the depth, not a 2 KB path', () => {
    let node: unknown = { kind: 'actnrom', shape: [3, 8, 8] };
    for (let i = 0; i < 200; i++) node = { kind: 'chain', steps: [node] };
    const file = join(tmp, 'deep.json');
    writeFileSync(file, JSON.stringify(node));
    const r = cli(['summary', file]);
    expect(r.code).toBe(2);
    expect(r.err.length).toBeLessThan(400);
    expect(r.err).toMatch(/\$\.steps\[0\].*….*\(\d+ levels\)/);
  });

  it('cpu runs do not print the tfjs "install our node backend" banner', () => {
    const r = cli(['verify', 'examples/glow.json', '--runs', '1']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toContain('looks like you are running TensorFlow.js in Node.js');
    expect(r.err).toContain('using backend cpu');
  });
});
