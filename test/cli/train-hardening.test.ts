/**
 * `typed-flows train` and the commands on its run, as a user meets them after a crash or with odd
 * options: history stays consistent with the checkpoint, stale temporary files are cleaned on the next
 * start, --resume never rewrites a run it does not train, export never overwrites the run's own
 * checkpoint, oversized sampling and non-finite weights are refused.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCaflowCheckpoint, encodeCaflowCheckpoint } from '../../src/caflow/checkpoint.js';
import { disposeParams } from '../../src/dsl/params.js';
import { tinyRunConfig } from '../support/tiny-run.js';

const out = mkdtempSync(join(tmpdir(), 'typed-flows-train-harden-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const configFile = join(out, 'tiny.json');
writeFileSync(configFile, JSON.stringify(tinyRunConfig(4)));
const run = join(out, 'tiny');
const checkpoint = join(run, 'checkpoint.safetensors');

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/typed-flows.js', ...args, '--out', out], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'wasm' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const steps = (file: string): number[] => (JSON.parse(readFileSync(file, 'utf8')) as Array<{ step: number }>).map((h) => h.step);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The pid of a process that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid as number;

describe('train after a crash, and commands that must not change a run', () => {
  it('keeps history with the checkpoint, cleans stale temporaries, and refuses what would lose state', async () => {
    const first = cli('train', '--config', configFile, '--quiet');
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/^tiny: 4 steps in [\d.]+ min, final loss/);
    const ckpt = decodeCaflowCheckpoint(new Uint8Array(readFileSync(checkpoint)));
    expect(ckpt.history?.map((h) => h.step)).toEqual(range(1, 4));
    expect(steps(join(run, 'history.json'))).toEqual(range(1, 4));

    // A kill -9 between the checkpoint's rename and the history write: history.json lags behind.
    writeFileSync(join(run, 'history.json'), JSON.stringify(JSON.parse(readFileSync(join(run, 'history.json'), 'utf8')).slice(0, 1)));
    // ... and kills in the middle of writes left temporary files (this version's names and earlier ones).
    const dead = deadPid();
    const stale = [`.checkpoint.safetensors.${dead}.0123456789ab.tmp`, '.checkpoint.safetensors.abcdef012345.tmp', `history.json.${dead}.tmp`];
    const live = `.metrics.json.${process.pid}.fedcba987654.tmp`;
    for (const f of [...stale, live]) writeFileSync(join(run, f), 'x'.repeat(1000));

    const resumed = cli('train', '--config', configFile, '--resume', '--steps', '6');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/^tiny: 2 steps in [\d.]+ min \(now at step 6 of 6\), final loss/);
    expect(resumed.err).toContain('removed 3 temporary file(s)');
    expect(readdirSync(run).filter((f) => f.endsWith('.tmp'))).toEqual([live]);
    expect(steps(join(run, 'history.json'))).toEqual(range(1, 6));
    expect(JSON.parse(readFileSync(join(run, 'train-summary.json'), 'utf8'))).toMatchObject({ steps: 6, stepsThisRun: 2, totalSteps: 6 });

    const before = readFileSync(checkpoint);
    const fewer = cli('train', '--config', configFile, '--resume', '--steps', '3');
    expect(fewer.code).toBe(2);
    expect(fewer.err).toContain("the run 'tiny' is at step 6 already, past the 3 steps asked for; nothing was changed");
    const same = cli('train', '--config', configFile, '--resume', '--steps', '6');
    expect(same.code, same.err).toBe(0);
    expect(same.out).toContain('already at step 6 of 6; nothing to do');

    const ownCheckpoint = cli('export', '--name', 'tiny', '--output', checkpoint);
    expect(ownCheckpoint.code).toBe(2);
    expect(ownCheckpoint.err).toContain("is the run's own checkpoint");
    expect(readFileSync(checkpoint).equals(before)).toBe(true);

    const many = cli('sample', '--name', 'tiny', '--k', '100000');
    expect(many.code).toBe(2);
    expect(many.err).toMatch(/^typed-flows: sample: 8 conditions x 100,000 samples needs about .* of memory; the limit is /);

    // NaN weights: eval refuses the checkpoint and names the tensor.
    const full = decodeCaflowCheckpoint(new Uint8Array(before));
    /** Replaces the first tensor of the tree with NaNs; returns its dotted path and the tensor it replaced. */
    const poison = (node: unknown, path: string): { path: string; tensor: tf.Tensor } | undefined => {
      if (typeof node !== 'object' || node === null) return undefined;
      for (const [k, child] of Object.entries(node as Record<string, unknown>)) {
        if (child instanceof tf.Tensor) {
          (node as Record<string, unknown>)[k] = tf.fill(child.shape, NaN);
          return { path: `${path}.${k}`, tensor: child };
        }
        const found = poison(child, `${path}.${k}`);
        if (found !== undefined) return found;
      }
      return undefined;
    };
    const victim = poison(full.params, 'params');
    expect(victim).toBeDefined();
    const { path, tensor } = victim as { path: string; tensor: tf.Tensor };
    writeFileSync(checkpoint, await encodeCaflowCheckpoint({ ...full }));
    tensor.dispose();
    disposeParams([full.params, full.adam.m, full.adam.v]);
    disposeParams([ckpt.params, ckpt.adam.m, ckpt.adam.v]);
    const ev = cli('eval', '--name', 'tiny');
    expect(ev.code).toBe(2);
    expect(ev.err).toContain('non-finite values (NaN or infinity) in 1 tensor');
    expect(ev.err).toMatch(new RegExp(`${path.replace(/\./g, '\\.')}: (\\d+) NaN of \\1 values`));
  }, 180_000);
});
