/** `typed-flows train` end to end: Ctrl-C saves a checkpoint, --resume continues, eval and export run. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/experiments/config.js';
import { tinyRunConfig } from '../support/tiny-run.js';

const out = mkdtempSync(join(tmpdir(), 'typed-flows-train-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const config: RunConfig = tinyRunConfig(100000);
const configFile = join(out, 'tiny.json');
writeFileSync(configFile, JSON.stringify(config));
const env = { ...process.env, TYPED_FLOWS_BACKEND: 'wasm' };

describe('typed-flows train', () => {
  it('Ctrl-C stops after the current step and saves a checkpoint that --resume continues', async () => {
    const child = spawn(process.execPath, ['bin/typed-flows.js', 'train', '--config', configFile, '--out', out], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    // Interrupt once training is under way (the run directory's config is written before the first step).
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(join(out, 'tiny', 'config.json'))) {
          clearInterval(poll);
          setTimeout(resolve, 3000);
        }
      }, 200);
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('saving a checkpoint');
    expect(stdout).toContain('stopped early');
    const summary = JSON.parse(readFileSync(join(out, 'tiny', 'train-summary.json'), 'utf8')) as { steps: number; stopped: boolean };
    expect(summary.stopped).toBe(true);
    expect(summary.steps).toBeGreaterThan(0);

    const resumed = spawnSync(process.execPath, ['bin/typed-flows.js', 'train', '--config', configFile, '--out', out, '--resume', '--steps', String(summary.steps + 3)], { env, encoding: 'utf8' });
    expect(resumed.status, resumed.stderr).toBe(0);
    const after = JSON.parse(readFileSync(join(out, 'tiny', 'train-summary.json'), 'utf8')) as { steps: number };
    expect(after.steps).toBe(summary.steps + 3);
    const history = JSON.parse(readFileSync(join(out, 'tiny', 'history.json'), 'utf8')) as Array<{ step: number }>;
    expect(history.map((h) => h.step)).toEqual(Array.from({ length: summary.steps + 3 }, (_, i) => i + 1));

    const again = spawnSync(process.execPath, ['bin/typed-flows.js', 'train', '--config', configFile, '--out', out], { env, encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('--resume');

    const ev = spawnSync(process.execPath, ['bin/typed-flows.js', 'eval', '--name', 'tiny', '--out', out], { env, encoding: 'utf8' });
    expect(ev.status, ev.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'tiny', 'metrics.json'), 'utf8')) as { bitsPerDim: number; best: { rmse: number } };
    expect(Number.isFinite(metrics.bitsPerDim)).toBe(true);
    expect(existsSync(join(out, 'tiny', 'samples-t0.5.png'))).toBe(true);

    // export: the model without Adam's two moment slots, about a third of the checkpoint, and it
    // evaluates like the checkpoint it came from.
    const exported = join(out, 'tiny-model.safetensors');
    const ex = spawnSync(process.execPath, ['bin/typed-flows.js', 'export', '--name', 'tiny', '--out', out, '--output', exported], { env, encoding: 'utf8' });
    expect(ex.status, ex.stderr).toBe(0);
    expect(ex.stdout).toMatch(/run 'tiny' \(sr\), model at step \d+/);
    const ratio = statSync(exported).size / statSync(join(out, 'tiny', 'checkpoint.safetensors')).size;
    expect(ratio).toBeGreaterThan(0.3);
    expect(ratio).toBeLessThan(0.4);
    const { decodeCaflowModel } = await import('../../src/caflow/checkpoint.js');
    const { disposeParams } = await import('../../src/dsl/params.js');
    const full = decodeCaflowModel(new Uint8Array(readFileSync(join(out, 'tiny', 'checkpoint.safetensors'))));
    const small = decodeCaflowModel(new Uint8Array(readFileSync(exported)), full.model);
    expect(small.step).toBe(full.step);
    // The run config travels with the model (the playground reads the task and temperature from it).
    expect((small.config as RunConfig).model).toEqual((full.config as RunConfig).model);
    expect((small.config as RunConfig).task).toBe('sr');
    disposeParams(full.params);
    disposeParams(small.params);
  }, 120_000);
});
