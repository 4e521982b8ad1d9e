/**
 * Section 9: the overhead of `typed-flows train --engine pytorch` over running the exported train.py by
 * hand (issue 24: at most 5 % of the wall time of a 200-step run). Both start from the same mnist-sr run
 * at step 1 (one tfjs step, so the data-dependent init is done) and train 200 steps in one process
 * (OMP_NUM_THREADS=1 on both sides, the thread count tfjs-wasm has):
 * - by hand: `python3 train.py --steps 201 --no-eval` in the folder `export --format pytorch` wrote;
 * - the command: `typed-flows train --preset mnist-sr --resume --steps 201 --engine pytorch --quiet` on a
 *   copy of the run, first without its cache folder (it loads the pairs and writes data.safetensors),
 *   then with it.
 * Rounds alternate the two, so machine load falls on both alike. The command starts train.py in a session
 * of its own (detached, so that a terminal's Ctrl-C reaches the command only); where the kernel groups
 * processes by session for scheduling (Linux autogroup), that session gets its own share of a busy
 * machine, so train.py by hand runs in a new session too (setsid), or the comparison would favour the
 * command. Needs torch under /usr/bin/python3; the compiled CLI (dist/) is built first when missing.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, round } from './common.js';
import { SYSTEM_PYTHON } from './pytorch.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'typed-flows.js');

export interface TrainEngineResult {
  readonly date: string;
  readonly command: string;
  readonly steps: number;
  readonly rounds: number;
  /** Median seconds of train.py run by hand. */
  readonly byHandSeconds: number;
  /** Median seconds of the command on a run without its cache folder (pairs loaded, data.safetensors written). */
  readonly commandColdSeconds: number;
  /** Median seconds of the command with the cache folder in place. */
  readonly commandCachedSeconds: number;
  /** (command - by hand) / by hand, cold and cached. */
  readonly overheadCold: number;
  readonly overheadCached: number;
  /** Share of all CPUs other processes used just before (null: unknown). */
  readonly otherProcessesBusy: number | null;
  readonly note?: string;
}

const env = { ...process.env, OMP_NUM_THREADS: '1', TYPED_FLOWS_BACKEND: 'wasm' };
delete (env as Record<string, string | undefined>)['TYPED_FLOWS_FROM_SOURCE'];

const timed = (file: string, args: readonly string[]): number => {
  const began = performance.now();
  const r = spawnSync(file, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return (performance.now() - began) / 1000;
};

/** Runs the rounds (1 with quick, else 2) of `steps` steps each. */
export const runTrainEngine = (quick: boolean, command: string, otherProcessesBusy: number | null): TrainEngineResult => {
  const steps = quick ? 40 : 200;
  const rounds = quick ? 1 : 2;
  const base = { date: new Date().toISOString(), command, steps, rounds, otherProcessesBusy };
  if (spawnSync(SYSTEM_PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) {
    return { ...base, byHandSeconds: NaN, commandColdSeconds: NaN, commandCachedSeconds: NaN, overheadCold: NaN, overheadCached: NaN, note: `${SYSTEM_PYTHON} cannot import torch` };
  }
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) timed('npx', ['tsc', '-p', join(root, 'tsconfig.build.json')]);
  const setsid = spawnSync('setsid', ['--version'], { encoding: 'utf8' }).status === 0;
  const dir = mkdtempSync(join(tmpdir(), 'typed-flows-bench-train-'));
  try {
    const runs = join(dir, 'runs');
    const cli = (...args: string[]): number => timed(process.execPath, [bin, ...args, '--out', runs]);
    cli('train', '--preset', 'mnist-sr', '--name', 'base', '--steps', '1', '--quiet');
    cli('export', '--format', 'pytorch', '--name', 'base', '--output', join(dir, 'hand'), '--quiet');
    const byHand: number[] = [];
    const cold: number[] = [];
    const cached: number[] = [];
    for (let r = 0; r < rounds; r++) {
      byHand.push(timed(setsid ? 'setsid' : SYSTEM_PYTHON, [...(setsid ? ['-w', SYSTEM_PYTHON] : []), join(dir, 'hand', 'train.py'), '--steps', String(steps + 1), '--no-eval', '--checkpoint', join(runs, 'base', 'checkpoint.safetensors'), '--output', join(dir, 'hand', `out-${r}.safetensors`)]));
      const coldRun = `cold-${r}`;
      cpSync(join(runs, 'base'), join(runs, coldRun), { recursive: true });
      cold.push(cli('train', '--preset', 'mnist-sr', '--name', coldRun, '--resume', '--steps', String(steps + 1), '--engine', 'pytorch', '--quiet'));
      const cachedRun = `cached-${r}`;
      cpSync(join(runs, 'base'), join(runs, cachedRun), { recursive: true });
      cpSync(join(runs, coldRun, 'pytorch'), join(runs, cachedRun, 'pytorch'), { recursive: true });
      cached.push(cli('train', '--preset', 'mnist-sr', '--name', cachedRun, '--resume', '--steps', String(steps + 1), '--engine', 'pytorch', '--quiet'));
    }
    const hand = median(byHand);
    return {
      ...base,
      byHandSeconds: round(hand),
      commandColdSeconds: round(median(cold)),
      commandCachedSeconds: round(median(cached)),
      overheadCold: round((median(cold) - hand) / hand),
      overheadCached: round((median(cached) - hand) / hand),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
