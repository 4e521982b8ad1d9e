/**
 * `typed-flows eval --lpips-weights / --fid-model`: bad files exit 2 with a paragraph saying what to
 * pass; good ones put LPIPS and FID into metrics.json and the report; without them the output says
 * they were not computed and which flag enables them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/experiments/config.js';
import { tinyRunConfig } from '../support/tiny-run.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import type { EvalResult } from '../../src/cli/commands/eval.js';
import { renderReport } from '../../src/cli/commands/report.js';
import { randomLpipsTensors, saveLayersModel } from '../support/perceptual-fixtures.js';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'cpu' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-perceptual-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const weightsFile = join(tmp, 'lpips-alex.safetensors');
let fidModel = '';
beforeAll(async () => {
  writeFileSync(weightsFile, encodeSafetensors(randomLpipsTensors(5)));
  const model = tf.sequential({
    layers: [tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 6, kernelSize: 3, activation: 'relu' }), tf.layers.globalAveragePooling2d({})],
  });
  fidModel = await saveLayersModel(model, tmp, 'features');
  model.dispose();
});

describe('eval with user-supplied networks: bad files exit 2', () => {
  it('a missing LPIPS weights file', () => {
    const r = cli('eval', '--name', 'any', '--out', tmp, '--lpips-weights', join(tmp, 'nope.safetensors'));
    expect(r.code).toBe(2);
    expect(r.err).toContain("nope.safetensors' do not exist");
    expect(r.err).toContain("lpips.LPIPS(net='alex')");
  });

  it('a file that is not safetensors, and one with the wrong tensors (listed)', () => {
    const junk = join(tmp, 'junk.safetensors');
    writeFileSync(junk, 'not a safetensors file at all');
    const a = cli('eval', '--name', 'any', '--out', tmp, '--lpips-weights', junk);
    expect(a.code).toBe(2);
    expect(a.err).toContain('is not usable as LPIPS weights');

    const partial = randomLpipsTensors(6);
    partial.delete('lin0.model.1.weight');
    partial.set('extra', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    const wrong = join(tmp, 'wrong.safetensors');
    writeFileSync(wrong, encodeSafetensors(partial));
    const b = cli('eval', '--name', 'any', '--out', tmp, '--lpips-weights', wrong);
    expect(b.code).toBe(2);
    expect(b.err).toContain('missing tensor "lin0.model.1.weight"');
    expect(b.err).toContain('unexpected tensor "extra"');
  });

  it('a missing or malformed FID model', () => {
    const a = cli('eval', '--name', 'any', '--out', tmp, '--fid-model', join(tmp, 'nope.json'));
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--fid-model .*nope\.json' cannot be used: .*does not exist/);
    const bad = join(tmp, 'bad-model.json');
    writeFileSync(bad, '{"modelTopology": {}}');
    const b = cli('eval', '--name', 'any', '--out', tmp, '--fid-model', bad);
    expect(b.code).toBe(2);
    expect(b.err).toContain('weightsManifest');
  });
});

describe('eval on a trained run', () => {
  const config: RunConfig = tinyRunConfig(2);

  beforeAll(() => {
    const file = join(tmp, 'tiny.json');
    writeFileSync(file, JSON.stringify(config));
    const r = cli('train', '--config', file, '--out', tmp, '--quiet');
    expect(r.code, r.err).toBe(0);
  });

  it('without the flags: says LPIPS and FID were not computed and which flag enables each', () => {
    const r = cli('eval', '--name', 'tiny', '--out', tmp);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('LPIPS not computed');
    expect(r.out).toContain('--lpips-weights');
    expect(r.out).toContain('FID not computed');
    expect(r.out).toContain('--fid-model');
    const m = JSON.parse(readFileSync(join(tmp, 'tiny', 'metrics.json'), 'utf8')) as EvalResult;
    expect(m.lpips).toBeNull();
    expect(m.fid).toBeNull();
    expect(m.perceptual.notComputed).toHaveLength(2);
  });

  it('with them: LPIPS and FID in the output, metrics.json and the report', () => {
    const r = cli('eval', '--name', 'tiny', '--out', tmp, '--lpips-weights', weightsFile, '--fid-model', fidModel, '--fid-range', '0,1');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/LPIPS \d+\.\d{4}, FID \d+\.\d{2} \(4 vs 4 images\)/);
    expect(r.out).not.toContain('not computed');
    const m = JSON.parse(readFileSync(join(tmp, 'tiny', 'metrics.json'), 'utf8')) as EvalResult;
    // Random weights, untrained model: only the sign is known (LPIPS >= 0 with lin weights >= 0; FID >= 0).
    expect(m.lpips).toBeGreaterThan(0);
    expect(m.fid).toBeGreaterThan(0);
    expect(m.perceptual).toMatchObject({ lpipsWeights: weightsFile, fidModel, fidRange: [0, 1], fidSamples: 4, notComputed: [] });

    const report = join(tmp, 'report.md');
    const rep = cli('report', '--runs', 'tiny', '--output', report, '--out', tmp);
    expect(rep.code, rep.err).toBe(0);
    const text = readFileSync(report, 'utf8');
    expect(text).toContain('| LPIPS | FID |');
    expect(text).toContain((m.lpips as number).toFixed(4));
    expect(text).toContain('biased upwards');
    expect(text).not.toContain('not computed');
  });
});

describe('the report without LPIPS / FID', () => {
  it('says they were not computed and how to enable them, also for metrics.json from before the flags', () => {
    const old = { name: 'old', variant: 'caflow', task: 'sr', step: 1, bitsPerDim: 1, best: { rmse: 1, psnr: 1, ssim: 1 }, diversity: 1, baseline: null, pairs: 1, grid: 'g.png' } as unknown as EvalResult;
    const text = renderReport('t', 'r.md', [{ metrics: old }]);
    expect(text).not.toContain('| LPIPS |');
    expect(text).toContain('LPIPS not computed');
    expect(text).toContain('--lpips-weights <lpips-alex.safetensors>');
    expect(text).toContain('--fid-model <model.json>');
  });
});
