/**
 * `typed-flows train --engine pytorch` (issue 24): a tiny CAFLOW run trained by the exported train.py
 * under torchrun (2 CPU processes), resumed on tfjs, then on PyTorch again, then evaluated and sampled;
 * a SIGTERM that leaves a resumable checkpoint; and, without torch, the refusals: bad options (exit 2,
 * before any work) and a machine that cannot run it (no torch, no GPU, no torchrun: exit 3).
 *
 * Resuming across engines keeps the optimiser: Adam's update is checked in closed form between the
 * checkpoints before and after one step on the other engine. From the moments before (m, v) and after
 * (m', v'), the step's (clipped) gradient is g = (m' - b1 m) / (1 - b1); then v' must equal
 * b2 v + (1 - b2) g^2 and p - p' must equal lr (m' / c1) / (sqrt(v' / c2) + eps) with c = 1 - b^t for the
 * carried-over Adam step t. A resume that reset the moments misses the first by about b2 v (the
 * relative error is then of order 1); one that restarted the step count misses the second by the
 * ratio of the bias corrections (1 - 0.9^3 against 1 - 0.9: a factor 2.7). Both are compared as
 * relative errors of whole vectors (norm of the difference over norm of the value), bounded by 1e-3:
 * float32 rounding of p - p' (|p| ~ 1, steps ~ 1e-3) gives about 1e-4. Measured: 4e-8 (v) and 6e-6 (p) for the
 * tfjs step, 8e-6 (p) for the PyTorch one; with train.py's moments reset on resume (mutation) the v error was 10.6.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/experiments/config.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { trainCommand } from '../../src/cli/commands/train.js';
import { trainPyTorchCommand } from '../../src/cli/commands/train-pytorch.js';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { sampleCommand } from '../../src/cli/commands/sample.js';
import { EVENT_MARKER, parseEvent } from '../../src/cli/train-events.js';
import { removeStaleTemporaries } from '../../src/node/temp-files.js';
import { tinyRunConfig } from '../support/tiny-run.js';

const root = mkdtempSync(join(tmpdir(), 'typed-flows-torch-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** warmup 0: the learning rate is the base rate at every step of these short runs (fewer than one epoch of 45 steps). */
const config = (steps: number, name = 'tiny'): RunConfig => {
  const c = tinyRunConfig(steps);
  return { ...c, name, train: { ...c.train, warmup: 0, checkpointEvery: 2 }, eval: { conditions: 2, samples: 2, temperature: 0.5, nllDraws: 1 } };
};
const configFile = join(root, 'tiny.json');
writeFileSync(configFile, JSON.stringify(config(100_000)));

const cli = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'wasm', ...env }, timeout: 120_000 });

/** A fake interpreter: a shell script answering the probes the command makes. */
const fakePython = (name: string, script: string): string => {
  const path = join(root, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
};

/** torch under /usr/bin/python3, the interpreter the command tries first. Under CI (which installs python3-torch) the tests run regardless. */
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const skipTorch = !hasTorch && process.env['CI'] !== 'true';

interface Snapshot {
  readonly step: number;
  readonly adamStep: number;
  readonly tensors: ReadonlyMap<string, Float32Array>;
}
const snapshot = (run: string, out: string): Snapshot => {
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(join(out, run, 'checkpoint.safetensors'))));
  const meta = JSON.parse(metadata['config'] ?? '{}') as { adamStep: number };
  return { step: Number(metadata['step']), adamStep: meta.adamStep, tensors: new Map([...tensors].map(([k, t]) => [k, Float32Array.from(t.data)])) };
};

/** Relative errors of Adam's second moment and parameter step between two checkpoints one step apart (see the file comment). */
const adamErrors = (before: Snapshot, after: Snapshot, lr: number): { v: number; p: number } => {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const t = after.adamStep;
  const [c1, c2] = [1 - b1 ** t, 1 - b2 ** t];
  let dv = 0;
  let nv = 0;
  let dp = 0;
  let np = 0;
  for (const [key, p0] of before.tensors) {
    if (!key.startsWith('params.')) continue;
    const path = key.slice('params.'.length);
    const get = (s: Snapshot, k: string): Float32Array => s.tensors.get(k) as Float32Array;
    const [m0, v0, p1, m1, v1] = [get(before, `optimizer.m.${path}`), get(before, `optimizer.v.${path}`), get(after, key), get(after, `optimizer.m.${path}`), get(after, `optimizer.v.${path}`)];
    for (let i = 0; i < p0.length; i++) {
      const g = ((m1[i] as number) - b1 * (m0[i] as number)) / (1 - b1);
      const vExpected = b2 * (v0[i] as number) + (1 - b2) * g * g;
      dv += ((v1[i] as number) - vExpected) ** 2;
      nv += (v1[i] as number) ** 2;
      const stepExpected = (lr * ((m1[i] as number) / c1)) / (Math.sqrt((v1[i] as number) / c2) + eps);
      dp += ((p0[i] as number) - (p1[i] as number) - stepExpected) ** 2;
      np += stepExpected ** 2;
    }
  }
  return { v: Math.sqrt(dv / nv), p: Math.sqrt(dp / np) };
};

const historyOf = (out: string, run = 'tiny'): Array<{ step: number; loss: number }> => JSON.parse(readFileSync(join(out, run, 'history.json'), 'utf8'));

describe('train --engine pytorch: progress events', () => {
  it('a step event comes back as train.py wrote it, wherever torchrun put it in the line; other lines are not events', () => {
    const event = fc.record({
      step: fc.nat(10_000_000),
      steps: fc.nat(10_000_000),
      loss: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.constantFrom('nan', 'inf', '-inf')),
      skipped: fc.nat(100),
      rate: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1e4 }),
    });
    fc.assert(
      fc.property(event, fc.constantFrom('', '[default0]:', '[rank0]: '), (e, prefix) => {
        const parsed = parseEvent(`${prefix}${EVENT_MARKER}${JSON.stringify({ event: 'step', ...e })}`);
        // JSON.stringify, which writes the line here, turns -0 into 0 (train.py's json.dumps keeps -0.0).
        const unsigned = (v: number): number => (Object.is(v, -0) ? 0 : v);
        const loss = e.loss === 'nan' ? NaN : e.loss === 'inf' ? Infinity : e.loss === '-inf' ? -Infinity : unsigned(e.loss);
        expect(parsed).toEqual({ event: 'step', step: e.step, steps: e.steps, loss, skipped: e.skipped, rate: unsigned(e.rate) });
      }),
    );
    const line = `${EVENT_MARKER}${JSON.stringify({ event: 'checkpoint', step: 3 })}`;
    expect(parseEvent(line)).toEqual({ event: 'checkpoint', step: 3 });
    expect(parseEvent(line.slice(0, -2))).toBeUndefined();
    expect(parseEvent('step 10/200  loss 1.2  3.00 steps/s')).toBeUndefined();
    expect(parseEvent(`${EVENT_MARKER}${JSON.stringify({ event: 'checkpoint', step: 1.5 })}`)).toBeUndefined();
  });
});

describe('train --engine pytorch: refused before any work (exit 2)', () => {
  it('names the option: --nproc that does not divide the batch, pytorch options without --engine pytorch, --backend with it', () => {
    const out = join(root, 'refused');
    const split = cli(['train', '--config', configFile, '--out', out, '--engine', 'pytorch', '--nproc', '3']);
    expect(split.status, split.stderr).toBe(2);
    expect(split.stderr).toContain('--nproc 3');
    expect(split.stderr).toContain('train.batchSize 4');
    const tfjs = cli(['train', '--config', configFile, '--out', out, '--nproc', '2', '--device', 'cpu']);
    expect(tfjs.status, tfjs.stderr).toBe(2);
    expect(tfjs.stderr).toContain('--device, --nproc: options of --engine pytorch');
    const backend = cli(['--backend', 'wasm', 'train', '--config', configFile, '--out', out, '--engine', 'pytorch']);
    expect(backend.status, backend.stderr).toBe(2);
    expect(backend.stderr).toContain('drop --backend');
    expect(existsSync(out)).toBe(false);
  });
});

describe('train --engine pytorch: a machine that cannot run it (exit 3, saying what to install or set)', () => {
  it('no torch for --python, for TYPED_FLOWS_PYTHON, or a path that is no program', () => {
    const out = join(root, 'no-torch');
    const noTorch = fakePython('python-without-torch', 'exit 1');
    for (const r of [
      cli(['train', '--config', configFile, '--out', out, '--engine', 'pytorch', '--python', noTorch]),
      cli(['train', '--config', configFile, '--out', out, '--engine', 'pytorch'], { TYPED_FLOWS_PYTHON: noTorch }),
    ]) {
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toContain('has no torch');
      expect(r.stderr).toContain('apt-get install python3-torch');
    }
    const missing = cli(['train', '--config', configFile, '--out', out, '--engine', 'pytorch', '--python', join(root, 'no-such-python')]);
    expect(missing.status, missing.stderr).toBe(3);
    expect(missing.stderr).toContain('cannot be run (ENOENT)');
    expect(existsSync(out)).toBe(false);
  });

  it('--device cuda on a torch that sees no GPU', () => {
    const noGpu = fakePython('python-without-gpu', 'case "$2" in *find_spec*) exit 0;; *cuda*) echo 0; exit 0;; esac\nexit 1');
    const r = cli(['train', '--config', configFile, '--out', join(root, 'no-gpu'), '--engine', 'pytorch', '--device', 'cuda', '--python', noGpu]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toContain('sees 0 GPUs');
    expect(r.stderr).toContain('--device cpu');
  });

  it('a torchrun that cannot start: exit 3 with its message; the initialised run stays and tfjs resumes it', () => {
    const out = join(root, 'no-torchrun');
    const broken = fakePython('python-without-torchrun', 'case "$2" in *find_spec*) exit 0;; esac\necho "No module named torch.distributed.run (fake)" >&2\nexit 1');
    // --python relative to the working directory: the launcher runs it from the cache folder, so it must be made absolute.
    const r = cli(['train', '--config', configFile, '--out', out, '--engine', 'pytorch', '--nproc', '2', '--python', relative(process.cwd(), broken), '--steps', '2']);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toContain('torchrun');
    expect(r.stderr).toContain('could not start');
    expect(r.stderr).toContain('No module named torch.distributed.run (fake)');
    const resumed = cli(['train', '--config', configFile, '--out', out, '--resume', '--steps', '1', '--quiet']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(historyOf(out).map((h) => h.step)).toEqual([1]);
  }, 120_000);
});

describe.skipIf(skipTorch)(`train --engine pytorch with torch${skipTorch ? ' (skipped: /usr/bin/python3 cannot import torch; CI installs python3-torch and runs these)' : ''}`, () => {
  it('2 processes start the run; tfjs resumes it, PyTorch resumes that, with Adam carried over each way; eval and sample read it', async () => {
    const out = join(root, 'across');
    const o = { out, quiet: true, device: 'cpu', python: '/usr/bin/python3' } as const;
    const first = await trainPyTorchCommand(config(2), { ...o, resume: false, nproc: 2 });
    expect(first).toMatchObject({ steps: 2, stepsThisRun: 2, totalSteps: 2, skipped: 0, stopped: false });
    for (const f of ['config.json', 'checkpoint.safetensors', 'history.json', 'train-summary.json']) expect(existsSync(join(out, 'tiny', f)), f).toBe(true);
    // No temporary file or stop file is left behind.
    expect(readdirSync(join(out, 'tiny')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(out, 'tiny', 'pytorch', 'stop'))).toBe(false);
    const onTorch = snapshot('tiny', out);
    expect([onTorch.step, onTorch.adamStep]).toEqual([2, 2]);
    const torchHistory = historyOf(out);
    expect(torchHistory.map((h) => h.step)).toEqual([1, 2]);
    expect(first.finalLoss).toBe(torchHistory[1]?.loss);

    await trainCommand(config(3), { out, quiet: true, resume: true });
    const onTfjs = snapshot('tiny', out);
    expect([onTfjs.step, onTfjs.adamStep]).toEqual([3, 3]);
    const tfjsStep = adamErrors(onTorch, onTfjs, config(3).train.lr);
    expect(tfjsStep.v).toBeLessThan(1e-3);
    expect(tfjsStep.p).toBeLessThan(1e-3);

    const back = await trainPyTorchCommand(config(4), { ...o, resume: true, nproc: 1 });
    expect(back).toMatchObject({ steps: 4, stepsThisRun: 1 });
    const again = snapshot('tiny', out);
    expect([again.step, again.adamStep]).toEqual([4, 4]);
    const torchStep = adamErrors(onTfjs, again, config(4).train.lr);
    expect(torchStep.v).toBeLessThan(1e-3);
    expect(torchStep.p).toBeLessThan(1e-3);
    // One loss curve: the first steps' losses unchanged, one per step.
    const history = historyOf(out);
    expect(history.map((h) => h.step)).toEqual([1, 2, 3, 4]);
    expect(history.slice(0, 2)).toEqual(torchHistory);

    const e = await evalCommand(out, 'tiny', { gridRows: 1 });
    expect(Number.isFinite(e.nll.midBin)).toBe(true);
    const grid = join(out, 'tiny-samples.png');
    await sampleCommand(out, 'tiny', { k: 2, count: 2, seed: 0, output: grid });
    expect(existsSync(grid)).toBe(true);
  }, 240_000);

  it("train.py's checkpoint writes name their temporary file as typed-flows does: one left by a killed write is removed at the next start", async () => {
    const dir = mkdtempSync(join(root, 'killed-write-'));
    // os.replace replaced by an immediate exit: the process dies between writing the temporary file and renaming it.
    const kill = [
      'import os, sys, torch',
      `sys.path.insert(0, ${JSON.stringify(join(process.cwd(), 'src', 'interpreters', 'pytorch', 'py'))})`,
      'from safetensors import write_safetensors',
      'os.replace = lambda a, b: os._exit(9)',
      `write_safetensors(${JSON.stringify(join(dir, 'checkpoint.safetensors'))}, {'params.x': torch.zeros(3)})`,
    ].join('\n');
    expect(spawnSync('/usr/bin/python3', ['-c', kill], { encoding: 'utf8' }).status).toBe(9);
    const left = readdirSync(dir);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^\.checkpoint\.safetensors\.\d+\.[0-9a-f]{12}\.tmp$/);
    const removed = await removeStaleTemporaries(dir);
    expect(removed.files).toEqual([join(dir, left[0] as string)]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('SIGTERM stops after the current step with a checkpoint that --resume continues (here on tfjs)', async () => {
    const out = join(root, 'stopped');
    // --out relative to the working directory (train.py runs in the cache folder: its paths must not be).
    const child = spawn(process.execPath, ['bin/typed-flows.js', 'train', '--config', configFile, '--out', relative(process.cwd(), out), '--engine', 'pytorch', '--python', '/usr/bin/python3'], {
      env: { ...process.env, TYPED_FLOWS_BACKEND: 'wasm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    // Stop once train.py has written a checkpoint (every 2 steps; history.json follows each).
    await new Promise<void>((resolve, reject) => {
      const began = Date.now();
      const poll = setInterval(() => {
        const history = join(out, 'tiny', 'history.json');
        if (existsSync(history) && historyOf(out).length >= 2) {
          clearInterval(poll);
          resolve();
        } else if (Date.now() - began > 150_000) {
          clearInterval(poll);
          reject(new Error(`no checkpoint within 150 s: ${stderr}`));
        }
      }, 200);
    });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('stopped early');
    const summary = JSON.parse(readFileSync(join(out, 'tiny', 'train-summary.json'), 'utf8')) as { steps: number; stopped: boolean };
    expect(summary.stopped).toBe(true);
    const saved = snapshot('tiny', out);
    expect(saved.step).toBe(summary.steps);
    expect(historyOf(out).map((h) => h.step)).toEqual(Array.from({ length: summary.steps }, (_, i) => i + 1));
    // train.py has ended: nothing runs with the stop file of this run any more.
    expect(spawnSync('pgrep', ['-f', join(out, 'tiny', 'pytorch', 'stop')]).status).toBe(1);

    const resumed = cli(['train', '--config', configFile, '--out', out, '--resume', '--steps', String(summary.steps + 2), '--quiet']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(historyOf(out).map((h) => h.step)).toEqual(Array.from({ length: summary.steps + 2 }, (_, i) => i + 1));
  }, 240_000);
});
