/**
 * `typed-flows fit --engine pytorch` (issue 24): fit's loop run by the shipped fit.py on torch gives the
 * fit tfjs gives, and what it cannot do is refused before any work.
 *
 * Both engines get the same split, initial parameters (data-dependent init by tfjs), minibatches (the
 * epoch permutations come from TypeScript: fitPlan), learning rates, clipping, evaluation cadence and
 * early stopping, so the runs differ only by float32 rounding (sums in another order, torch's and
 * tfjs's kernels for exp/log/softplus). Every step's minibatch loss, every validation NLL and the
 * held-out NLL of the kept parameters must agree within TOLERANCE (1e-4) nats: rounding of ~1e-7 relative
 * per op, carried through at most 80 Adam steps (Adam divides by sqrt(v), so tiny gradient
 * differences become step differences of order lr * 1e-3), gives ~1e-5; measured: at most 1.2e-6 nats
 * over 3 runs (printed). With fit.py taking the minibatches in reverse order (mutation) the test fails. A different minibatch order (e.g. torch's own shuffling) or an off-by-one in the
 * schedule changes the losses by 1e-2 or more, far outside the tolerance; so does a missed early stop,
 * which also changes the step count compared exactly.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fitCommand, type FitCommandOptions } from '../../src/cli/commands/fit.js';

const root = mkdtempSync(join(tmpdir(), 'typed-flows-torch-fit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** See the file comment. */
const TOLERANCE = 1e-4;

/** torch under /usr/bin/python3, the interpreter the command tries first. Under CI (which installs python3-torch) the tests run regardless. */
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const skipTorch = !hasTorch && process.env['CI'] !== 'true';

const cli = (args: readonly string[]) => spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'cpu' }, timeout: 120_000 });

/** Rows of a two-component Gaussian mixture in 2-D from a seeded generator (Box-Muller on a linear congruential stream). */
const mixtureRows = (n: number, seed: number, spread: number, offset: number): string => {
  let s = seed >>> 0 || 1;
  const u = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const normal = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const lines = Array.from({ length: n }, () => {
    const side = u() < 0.5 ? -1 : 1;
    return `${(side * offset + spread * normal()).toFixed(5)},${(side * 0.5 * offset + 0.3 * normal()).toFixed(5)}`;
  });
  return `x,y\n${lines.join('\n')}\n`;
};

const options = (data: string, output: string, o: Partial<FitCommandOptions>): FitCommandOptions => ({
  flow: 'realnvp',
  data,
  steps: 80,
  batch: 64,
  lr: 2e-3,
  seed: 0,
  output,
  patience: 10,
  evalEvery: 20,
  standardize: true,
  quiet: true,
  ...o,
});

describe.skipIf(skipTorch)('fit --engine pytorch: the fit tfjs gives', () => {
  it('every step loss, validation NLL, the chosen step and the held-out NLL agree with --engine tfjs (random data, flows, seeds, patience)', async () => {
    let run = 0;
    let worst = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ seed: fc.integer({ min: 0, max: 1000 }), spread: fc.double({ min: 0.2, max: 2, noNaN: true }), offset: fc.double({ min: 0.5, max: 3, noNaN: true }), flow: fc.constantFrom('realnvp', 'nsf', 'maf'), patience: fc.integer({ min: 1, max: 3 }) }),
        async ({ seed, spread, offset, flow, patience }) => {
          run += 1;
          const data = join(root, `rows-${run}.csv`);
          writeFileSync(data, mixtureRows(300, seed, spread, offset));
          // Noise regularisation draws from each engine's own generator, so it is off here (tested below);
          // parameter averaging (on by default) is deterministic and must agree.
          const common = { flow, seed, patience, noise: 0, averaging: 0.9 };
          const tfjs = await fitCommand(options(data, join(root, `tfjs-${run}`), common));
          const torch = await fitCommand(options(data, join(root, `torch-${run}`), { ...common, engine: 'pytorch' }));
          expect(existsSync(join(root, `torch-${run}`, 'pytorch', 'best.safetensors'))).toBe(true); // fit.py ran
          const [a, b] = [tfjs.result, torch.result];
          if (a === undefined || b === undefined) throw new Error('a flow fit has a result');
          expect(b.steps).toBe(a.steps);
          expect(b.stoppedEarly).toBe(a.stoppedEarly);
          expect(b.bestStep).toBe(a.bestStep);
          expect(b.history.train.map((r) => r.step)).toEqual(a.history.train.map((r) => r.step));
          expect(b.history.validation.map((r) => r.step)).toEqual(a.history.validation.map((r) => r.step));
          const gaps = [
            ...a.history.train.map((r, i) => Math.abs(r.loss - (b.history.train[i]?.loss ?? Number.NaN))),
            ...a.history.validation.map((r, i) => Math.abs(r.nll - (b.history.validation[i]?.nll ?? Number.NaN))),
            Math.abs(a.trainNll - b.trainNll),
            Math.abs((tfjs.scores[0]?.nll ?? Number.NaN) - (torch.scores[0]?.nll ?? Number.NaN)),
          ];
          const gap = Math.max(...gaps);
          worst = Math.max(worst, gap);
          expect(gap).toBeLessThan(TOLERANCE);
        },
      ),
      { numRuns: 2, seed: 24 },
    );
    console.log(`fit --engine pytorch against tfjs: largest difference ${worst.toExponential(2)} nats`);
  }, 240_000);

  it('noise regularisation reaches fit.py: noised minibatch losses differ from the clean ones from the first step', async () => {
    const data = join(root, 'rows-noise.csv');
    writeFileSync(data, mixtureRows(300, 5, 0.5, 1.5));
    const common = { flow: 'realnvp', seed: 3, averaging: 0, steps: 20, engine: 'pytorch' } as const;
    const clean = await fitCommand(options(data, join(root, 'torch-clean'), { ...common, noise: 0 }));
    const noised = await fitCommand(options(data, join(root, 'torch-noised'), { ...common, noise: 0.5 }));
    const [a, b] = [clean.result?.history.train[0]?.loss, noised.result?.history.train[0]?.loss];
    // The same minibatch and parameters at step 1: only the noise (0.5 standard deviations) differs.
    expect(Math.abs((a as number) - (b as number))).toBeGreaterThan(1e-3);
  }, 120_000);
});

describe('fit --engine pytorch: refusals', () => {
  const data = join(root, 'refused.csv');
  writeFileSync(data, mixtureRows(50, 1, 1, 1));
  const refused: ReadonlyArray<readonly [string, readonly string[], RegExp]> = [
    ['a conditional fit', ['--context', data], /unconditional densities only.*--engine tfjs/],
    ['flow matching', ['--flow', 'cnf', '--objective', 'flow-matching'], /likelihood only.*--objective flow-matching/],
    ['an EM preset', ['--flow', 'gmm'], /fitted by EM.*drop --engine pytorch/],
  ];
  for (const [what, args, message] of refused) {
    it(`refuses ${what} with exit 2 before writing anything`, () => {
      const output = join(root, `refused-${what.replace(/\W+/g, '-')}`);
      const r = cli(['fit', '--data', data, '--engine', 'pytorch', '--output', output, ...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(existsSync(output)).toBe(false);
    });
  }

  it('refuses --device or --python without --engine pytorch (exit 2)', () => {
    const r = cli(['fit', '--data', data, '--device', 'cpu', '--output', join(root, 'no-engine')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--device: an option of --engine pytorch/);
  });

  it('exits 3 naming the Python when it has no torch, before any work (no output folder)', () => {
    const python = join(root, 'python-without-torch');
    writeFileSync(python, '#!/bin/sh\nexit 1\n');
    chmodSync(python, 0o755);
    const output = join(root, 'no-torch');
    const r = cli(['fit', '--data', data, '--steps', '5', '--engine', 'pytorch', '--python', python, '--output', output]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toContain(`'${python}' has no torch`);
    expect(existsSync(output)).toBe(false);
  });

  /** A Python that answers the torch probes (exit 0, no output: torch found, no GPU) and fails to run a script, saying why. */
  const brokenPython = (): string => {
    const python = join(root, 'python-that-fails');
    writeFileSync(python, '#!/bin/sh\nif [ "$1" = "-c" ]; then exit 0; fi\necho "fit.py cannot run here" >&2\nexit 1\n');
    chmodSync(python, 0o755);
    return python;
  };

  it('exits 3 with the script\'s own error when the Python cannot run fit.py, before writing the model', () => {
    const output = join(root, 'broken');
    const r = cli(['fit', '--data', data, '--steps', '5', '--engine', 'pytorch', '--python', brokenPython(), '--output', output]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/could not start fitting \(exit code 1\)/);
    expect(r.stderr).toContain('fit.py cannot run here');
    expect(existsSync(join(output, 'model.safetensors'))).toBe(false);
  });

  it('exits 3 for --device cuda when torch sees no GPU, before any work (no output folder)', () => {
    const output = join(root, 'no-gpu');
    const r = cli(['fit', '--data', data, '--steps', '5', '--engine', 'pytorch', '--device', 'cuda', '--python', brokenPython(), '--output', output]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/GPU/);
    expect(existsSync(output)).toBe(false);
  });
});
