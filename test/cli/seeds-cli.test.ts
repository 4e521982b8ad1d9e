/**
 * Several seeds on the command line (issue 15): `train --seeds` trains <name>-s<seed> runs, `report`
 * groups runs by name stem into models (mean ± std over seeds, paired differences and their verdict),
 * and bad --seeds values exit 2.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvalResult } from '../../src/cli/commands/eval.js';
import { expandRunNames, ONE_SEED_NOTE, renderReport, reportCommand, type ReportInput } from '../../src/cli/commands/report.js';
import { tinyRunConfig } from '../support/tiny-run.js';

const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-seeds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'cpu' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const runs = join(tmp, 'runs');
const metrics = (name: string, variant: string, nll: number, rmse: number, psnr: number, diversity: number): EvalResult => ({
  name,
  variant,
  task: 'sr',
  step: 10,
  temperature: 0.5,
  samplesPerCondition: 3,
  conditionsScored: 4,
  seconds: 1,
  grid: join(runs, name, 'samples-t0.5.png'),
  bitsPerDim: nll,
  nll: { bitsPerDim: nll, standardError: 0.0002, pairStandardError: 0.008, draws: 8, midBin: nll - 0.3 },
  best: { rmse, psnr, ssim: 0.5 },
  diversity,
  baseline: null,
  pairs: 20,
  lpips: null,
  fid: null,
  perceptual: { lpipsWeights: null, fidModel: null, fidRange: null, fidSamples: null, notComputed: [] },
});
const write = (m: EvalResult): void => {
  mkdirSync(join(runs, m.name), { recursive: true });
  writeFileSync(join(runs, m.name, 'metrics.json'), JSON.stringify(m));
};
// Three seeds per model. NLL: ca - dg = [-0.05, -0.04, -0.06] (outside the noise with e = 0.008: ca
// better); RMSE: [-0.5, 1, -0.6] (within noise); PSNR: [1, 1.5, 1.5] (ca better, higher); SSIM equal
// (within noise); diversity [1, 1, 0.9] (ca higher).
const ca = { nll: [1.3, 1.32, 1.31], rmse: [10, 12, 11], psnr: [20, 21, 22], diversity: [3, 3.1, 3.2] };
const dg = { nll: [1.35, 1.36, 1.37], rmse: [10.5, 11, 11.6], psnr: [19, 19.5, 20.5], diversity: [2, 2.1, 2.3] };
for (let s = 0; s < 3; s++) {
  write(metrics(`ca-s${s}`, 'caflow', ca.nll[s]!, ca.rmse[s]!, ca.psnr[s]!, ca.diversity[s]!));
  write(metrics(`dg-s${s}`, 'dualglow', dg.nll[s]!, dg.rmse[s]!, dg.psnr[s]!, dg.diversity[s]!));
}
// One seed each, names without a seed suffix.
write(metrics('one-a', 'caflow', 1.3, 10, 20, 3));
write(metrics('one-b', 'dualglow', 1.5, 20, 10, 2));

const rowOf = (text: string, start: string): string => text.split('\n').find((l) => l.startsWith(start)) ?? '';

describe('report over seeds', () => {
  it('groups <model>-s<seed> runs into models (a bare stem names its sweep) and words the verdicts both ways', () => {
    const output = join(tmp, 'report.md');
    const r = cli('report', '--runs', 'ca', 'dg-s0', 'dg-s1', 'dg-s2', '--out', runs, '--output', output);
    expect(r.code, r.err).toBe(0);
    const text = readFileSync(output, 'utf8');
    expect(text).toContain('## Across seeds');
    // mean ± sample std: 1.310 ± 0.010 and 1.360 ± 0.010.
    expect(rowOf(text, '| CAFLOW (ca) |')).toContain('| 3 (0, 1, 2) | 1.310 ± 0.010 |');
    expect(rowOf(text, '| Dual-Glow+ (dg) |')).toContain('| 3 (0, 1, 2) | 1.360 ± 0.010 |');
    expect(text).toContain('t(0.975, n − 1)');
    // NLL: d̄ = -0.05, s_d = 0.01, SE = sqrt(1e-4/3 + 6 * 0.008^2 / 9) = 0.008718, half-width 0.0375.
    expect(rowOf(text, '| ca − dg | cond. NLL')).toBe('| ca − dg | cond. NLL (bits/dim, bound) | 3 (0, 1, 2) | −0.0500 | 0.0100 | 0.0375 | **ca better** (lower) |');
    expect(rowOf(text, '| ca − dg | RMSE')).toMatch(/\| within noise \|$/);
    expect(rowOf(text, '| ca − dg | PSNR')).toMatch(/\| \*\*ca better\*\* \(higher\) \|$/);
    expect(rowOf(text, '| ca − dg | SSIM')).toMatch(/\| within noise \|$/);
    expect(rowOf(text, '| ca − dg | diversity')).toMatch(/\| ca higher \(outside the noise\) \|$/);
    // The JSON twin lists every run.
    expect(JSON.parse(readFileSync(join(tmp, 'report.json'), 'utf8'))).toHaveLength(6);
    // The first paragraph states the outcome and which differences are outside noise.
    const outcome = text.split('\n')[2] ?? '';
    expect(outcome).toMatch(/^\*\*Outcome\*\* after 10 training steps: CAFLOW is ahead on cond\. NLL, RMSE, PSNR; tied on SSIM \(/);
    expect(outcome).toContain('Over 3 paired seeds the difference is outside noise for cond. NLL, PSNR and within noise for the rest');
  });

  it('one seed per model: one line on how to get spread instead of empty seed tables; never calls a model better', async () => {
    const text = await reportCommand(runs, ['one-a', 'one-b'], join(tmp, 'single.md'));
    expect(text).not.toContain('## Across seeds');
    expect(text).not.toContain('(one seed)');
    expect(text).toContain(ONE_SEED_NOTE);
    expect(text).toContain('--seeds 3');
    expect(text).not.toContain('better**');
    // The outcome: one-a ahead on NLL, RMSE and PSNR, SSIM equal, and no noise verdict; the NLL gap 0.2
    // over sqrt(2) x 0.008 = 17.7 held-out standard errors.
    const outcome = text.split('\n')[2] ?? '';
    expect(outcome).toContain('CAFLOW is ahead on cond. NLL, RMSE, PSNR; tied on SSIM (');
    expect(outcome).toContain('cannot be said whether these differences are outside noise');
    expect(outcome).toContain('0.200 bits/dim, is 17.7 times the standard error');
    // Every metric is defined, and the NLL convention named.
    for (const metric of ['**cond. NLL (bits/dim, bound)**', '**Mid-bin**', '**RMSE (0-255)**', '**PSNR (dB)**', '**SSIM**', '**diversity (RMSE)**']) expect(text).toContain(metric);
  });

  it("the outcome paragraph carries the caller's context (the demo's word on the paper) before the noise sentence", () => {
    const one = (name: string, variant: string, nll: number): ReportInput => ({ metrics: metrics(name, variant, nll, 10, 20, 3) });
    const text = renderReport('t', join(tmp, 'r.md'), [one('x', 'caflow', 1.4), one('y', 'dualglow', 1.3)], [], ['The paper differs.']);
    const first = text.split('\n')[2] ?? '';
    expect(first).toMatch(/^\*\*Outcome\*\* after 10 training steps: Dual-Glow\+ is ahead on cond\. NLL; tied on RMSE, PSNR, SSIM \(.*\)\. The paper differs\. With one seed/);
  });

  it('seeds run for one model only are left out and named; a run named twice is refused', async () => {
    const text = await reportCommand(runs, ['ca', 'dg-s0', 'dg-s1'], join(tmp, 'partial.md'));
    expect(rowOf(text, '| ca − dg | cond. NLL')).toContain('| 2 (0, 1) |');
    expect(text).toContain('ca vs dg: seeds 2 were run for only one of the two');
    await expect(expandRunNames(runs, ['ca', 'ca-s1'])).rejects.toThrow("the run 'ca-s1' is named twice");
    // A name with a run of its own is that run, not a sweep.
    expect(await expandRunNames(runs, ['one-a', 'dg'])).toEqual(['one-a', 'dg-s0', 'dg-s1', 'dg-s2']);
  });
});

describe('--seeds', () => {
  it('bad values exit 2 with a message', () => {
    for (const args of [
      ['train', '--preset', 'mnist-sr', '--seeds', '1.5'],
      ['demo', '--seeds', '101'],
    ]) {
      const r = cli(...args, '--out', runs);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(/seeds must be (an integer >= 1|at most 100)/);
    }
  });

  it('train --seeds trains <name>-s<seed> with seeds config.seed + 0, 1, ...; a sweep over existing runs without --resume exits 2 before training', () => {
    const config = { ...tinyRunConfig(2), train: { ...tinyRunConfig(2).train, seed: 5 } };
    const file = join(tmp, 'tiny.json');
    writeFileSync(file, JSON.stringify(config));
    const r = cli('train', '--config', file, '--seeds', '2', '--quiet', '--out', runs);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('tiny-s5: 2 steps');
    expect(r.out).toContain('tiny-s6: 2 steps');
    // One runnable hint per line (src/cli/hints.ts), --out carried.
    expect(r.out).toContain(`next:\n  typed-flows eval --name tiny-s5 --out ${runs}\n  typed-flows eval --name tiny-s6 --out ${runs}\n  typed-flows report --runs tiny --output tiny-report.md --out ${runs}`);
    for (const [name, seed] of [['tiny-s5', 5], ['tiny-s6', 6]] as const) {
      const c = JSON.parse(readFileSync(join(runs, name, 'config.json'), 'utf8')) as { name: string; train: { seed: number } };
      expect(c).toMatchObject({ name, train: { seed } });
    }
    expect(existsSync(join(runs, 'tiny'))).toBe(false);
    // The check covers the whole sweep before anything trains: tiny-s7 is not started.
    const again = cli('train', '--config', file, '--seeds', '3', '--quiet', '--out', runs);
    expect(again.code).toBe(2);
    expect(again.err).toContain("'tiny-s5', 'tiny-s6' already hold a run");
    expect(again.err).toContain('--resume');
    expect(existsSync(join(runs, 'tiny-s7'))).toBe(false);
  }, 60_000);
});
