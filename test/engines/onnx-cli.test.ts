/**
 * The command line's ONNX paths on a tiny trained run: `export --format onnx` writes a graph that
 * ONNX Runtime loads with the documented inputs and outputs; `--direction` without `--format onnx` is
 * a usage error; `sample` and `eval` with `--engine onnx` give what the tfjs engine gives (same noise,
 * same NLL schedule); a missing onnxruntime-node and an unlowerable model are clear errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalCommand, type EvalResult } from '../../src/cli/commands/eval.js';
import { exportCommand } from '../../src/cli/commands/export.js';
import { sampleCommand } from '../../src/cli/commands/sample.js';
import { describeError, EXIT } from '../../src/cli/errors.js';
import { UsageError } from '../../src/cli/io.js';
import { OnnxExportError } from '../../src/interpreters/onnx/index.js';
import { onnxSession, OnnxRuntimeMissingError } from '../../src/node/onnx-runtime.js';
import { tinyRunConfig } from '../support/tiny-run.js';

const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-onnx-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'cpu' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

beforeAll(() => {
  const file = join(tmp, 'tiny.json');
  // Fewer digits and draws than the tiny run: this file times two evaluations.
  const base = tinyRunConfig(2);
  writeFileSync(file, JSON.stringify({ ...base, data: { source: 'mnist', limit: 48 }, eval: { conditions: 2, samples: 2, temperature: 0.5, nllDraws: 2 } }));
  const r = cli('train', '--config', file, '--out', tmp, '--quiet');
  expect(r.code, r.err).toBe(0);
});

const pixels = (file: string): Uint8Array => PNG.sync.read(readFileSync(file)).data;

describe('typed-flows export --format onnx', () => {
  it('writes the sampling graph, which ONNX Runtime loads with the documented inputs and outputs', async () => {
    const file = join(tmp, 'sample.onnx');
    const r = cli('export', '--name', 'tiny', '--out', tmp, '--format', 'onnx', '--direction', 'sample', '--k', '5', '--output', file);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/ONNX sample graph \(k = 5\) at step 2/);
    const session = await onnxSession(new Uint8Array(readFileSync(file)));
    expect([...session.inputNames].sort()).toEqual(['Y', 'noise0_0', 'noise0_1', 'noise1_1', 'temperature']);
    expect([...session.outputNames].sort()).toEqual(['W', 'logp']);
    await session.release();
  });

  it('the likelihood graph too (in process); --direction without --format onnx is a usage error', async () => {
    const file = join(tmp, 'likelihood.onnx');
    const r = await exportCommand(tmp, 'tiny', file, { format: 'onnx', direction: 'likelihood' });
    expect(r.what).toBe('ONNX likelihood graph');
    const session = await onnxSession(new Uint8Array(readFileSync(file)));
    expect([...session.inputNames].sort()).toEqual(['W', 'Y']);
    expect([...session.outputNames].sort()).toEqual(['joint', 'logp', 'logpY']);
    await session.release();
    await expect(exportCommand(tmp, 'tiny', join(tmp, 'x.safetensors'), { direction: 'sample' })).rejects.toThrow(UsageError);
    await expect(exportCommand(tmp, 'tiny', join(tmp, 'x.safetensors'), { direction: 'sample' })).rejects.toThrow(/--direction and --k apply to --format onnx only/);
  });
});

describe('--engine onnx', () => {
  it('sample draws the same grid as the tfjs engine', async () => {
    const a = await sampleCommand(tmp, 'tiny', { k: 2, count: 2, seed: 2, output: join(tmp, 'tfjs.png'), engine: 'tfjs' });
    const b = await sampleCommand(tmp, 'tiny', { k: 2, count: 2, seed: 2, output: join(tmp, 'onnx.png'), engine: 'onnx' });
    const pa = pixels(a);
    const pb = pixels(b);
    expect(pb.length).toBe(pa.length);
    // 8-bit samples are floor(W): engines agreeing to ~1e-5 can still differ by one level where W is
    // within that distance of an integer, so a few pixels may be one level apart; none by more.
    let differing = 0;
    pa.forEach((v, i) => {
      const d = Math.abs(v - (pb[i] as number));
      expect(d).toBeLessThanOrEqual(1);
      if (d > 0) differing++;
    });
    expect(differing / pa.length).toBeLessThan(0.01);
  });

  it('eval gives the tfjs engine\'s NLL and sample scores', async () => {
    const t = await evalCommand(tmp, 'tiny', { engine: 'tfjs' });
    const o: EvalResult = await evalCommand(tmp, 'tiny', { engine: 'onnx' });
    // The NLL sums ~10^3 float32 log-density terms per pair in each engine: agreement to ~1e-7 relative
    // was measured; 1e-5 allows for other machines.
    expect(Math.abs(o.bitsPerDim - t.bitsPerDim) / t.bitsPerDim).toBeLessThan(1e-5);
    expect(Math.abs(o.nll.midBin - t.nll.midBin) / t.nll.midBin).toBeLessThan(1e-5);
    expect(o.best.rmse).toBeCloseTo(t.best.rmse, 1);
    expect(o.diversity).toBeCloseTo(t.diversity, 1);
  });
});

describe('errors', () => {
  it('a missing onnxruntime-node exits 3 and says how to install it; an unlowerable model exits 2 naming the spec path', () => {
    const missing = describeError(new OnnxRuntimeMissingError(new Error("Cannot find module 'onnxruntime-node'")));
    expect(missing.code).toBe(EXIT.couldNotRun);
    expect(missing.message).toContain('npm install onnxruntime-node');
    expect(missing.message).toContain('--engine onnx');
    const refused = describeError(new OnnxExportError('$.priors[0].steps[3]', 'cannot lower this'));
    expect(refused.code).toBe(EXIT.badInput);
    expect(refused.message).toContain('cannot export to ONNX: $.priors[0].steps[3]: cannot lower this');
  });
});
