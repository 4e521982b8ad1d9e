/**
 * `typed-flows train --resume` through the command line: 3 steps, then --resume to 6, must give the
 * same parameters, Adam moments, Adam step and loss history, bit for bit, as 6 steps in one go.
 * A resume that started a fresh Adam state (or re-drew batches, or restarted the schedule) fails here.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCaflowCheckpoint } from '../../src/caflow/checkpoint.js';
import { disposeParams, flattenParams, type ParamTree } from '../../src/dsl/params.js';
import { tinyRunConfig } from '../support/tiny-run.js';

const out = mkdtempSync(join(tmpdir(), 'typed-flows-resume-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const configFile = join(out, 'tiny.json');
writeFileSync(configFile, JSON.stringify(tinyRunConfig(6)));
const env = { ...process.env, TYPED_FLOWS_BACKEND: 'wasm' };

const cli = (...args: string[]): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/typed-flows.js', 'train', '--config', configFile, '--quiet', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`train ${args.join(' ')} exited ${code}: ${stderr}`))));
  });

const values = (tree: ParamTree): Array<[string, number[]]> => flattenParams(tree).map(([path, t]) => [path, Array.from(t.dataSync())]);

describe('typed-flows train --resume', () => {
  it('3 steps + --resume to 6 equals 6 uninterrupted steps, bit for bit (params, Adam moments and step, history)', async () => {
    await Promise.all([cli('--out', join(out, 'split'), '--steps', '3'), cli('--out', join(out, 'whole'), '--steps', '6')]);
    await cli('--out', join(out, 'split'), '--resume', '--steps', '6');
    const read = (dir: string) => decodeCaflowCheckpoint(new Uint8Array(readFileSync(join(out, dir, 'tiny', 'checkpoint.safetensors'))));
    const split = read('split');
    const whole = read('whole');
    expect(split.step).toBe(6);
    expect(whole.step).toBe(6);
    for (const [a, b] of [
      [split.params, whole.params],
      [split.adam.m, whole.adam.m],
      [split.adam.v, whole.adam.v],
    ] as Array<[ParamTree, ParamTree]>) {
      expect(values(a)).toEqual(values(b));
    }
    expect(split.adam.step).toBe(whole.adam.step);
    expect(split.adam.step).toBe(6);
    // Training ran: Adam's first moments are not all zero.
    expect(values(whole.adam.m).some(([, v]) => v.some((x) => x !== 0))).toBe(true);
    const history = (dir: string): Array<{ step: number; loss: number }> => JSON.parse(readFileSync(join(out, dir, 'tiny', 'history.json'), 'utf8'));
    expect(history('split')).toEqual(history('whole'));
    expect(history('whole').map((h) => h.step)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const c of [split, whole]) {
      disposeParams(c.params as unknown as ParamTree);
      disposeParams(c.adam.m);
      disposeParams(c.adam.v);
    }
  }, 120_000);
});
