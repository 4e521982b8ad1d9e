/**
 * docs/density.md's examples: every line of its TypeScript blocks (imports aside, which
 * test/project/docs-imports.test.ts checks) is in this file and runs here; its command lines run (fits with
 * --steps 20); the example specs it uses are the flows it declares, and the benchmark's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DENSITY_ARCHITECTURE, densityFlow } from '../../bench/density.js';
import { checkerboard, eightGaussians, entropyEstimate, gaussianMixture, twoMoons } from '../../bench/density-data.js';
import { selectBackend } from '../../src/backend/index.js';
import { maf2d, nsf2d } from '../../src/cli/examples.js';
import {
  densityCost,
  diagonalNormal,
  fit as fitDist,
  fitVariational,
  initDistribution,
  logProb,
  sample,
  sampleAndLogProb,
  samplingCost,
  standardNormal,
  transformed,
} from '../../src/distributions/index.js';
import { actnorm, affine, affineCoupling, chain, chainOf, cnf, inv1x1LU, inverseAutoregressive, made, maskedAutoregressive, mlp, repeat, reverse } from '../../src/dsl/index.js';
import { disposeParams } from '../../src/dsl/params.js';
import { verifyFlow } from '../../src/interpreters/index.js';

// wasm, as the doc's figures: the cpu backend takes minutes for these fits.
await selectBackend({ prefer: 'wasm', log: () => undefined });

const doc = readFileSync('docs/density.md', 'utf8');
const self = readFileSync(new URL(import.meta.url), 'utf8');
const blocks = (lang: string): string[] => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] as string);

const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-density-docs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// 2,000 points of the two moons of bench/density-data.ts.
const x = tf.tensor2d(twoMoons.sample(2000, 0));
/** 0.5 log det(2 pi e Sigma) of the rows' sample covariance: the NLL of the best Gaussian. */
const gaussianNll = ((rows: number[][]) => {
  const n = rows.length;
  const m = [0, 1].map((j) => rows.reduce((s, r) => s + (r[j] as number), 0) / n);
  const c = (a: number, b: number): number => rows.reduce((s, r) => s + ((r[a] as number) - (m[a] as number)) * ((r[b] as number) - (m[b] as number)), 0) / n;
  return 0.5 * Math.log((2 * Math.PI * Math.E) ** 2 * (c(0, 0) * c(1, 1) - c(0, 1) ** 2));
})(twoMoons.sample(2000, 0));
/** `fit` with at most 100 steps: the doc's examples, run here within a test's time. */
const capped: typeof fitDist = (dist, data, options = {}) => fitDist(dist, data, { ...options, steps: Math.min(options.steps ?? 1000, 100) });

describe('docs/density.md', () => {
  it('every line of its TypeScript blocks is in this file', () => {
    const code = blocks('ts');
    expect(code.length).toBeGreaterThanOrEqual(4);
    const lines = code.flatMap((b) => b.split('\n')).map((l) => l.trim());
    const missing = lines.filter((l) => l !== '' && !l.startsWith('import ') && !l.startsWith('//') && !self.includes(l));
    expect(missing).toEqual([]);
  });

  it('sections 1-3: a Gaussian flow, evaluated, sampled and fitted', () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const flow = chain(actnorm([2]), inv1x1LU([2]), affine([2]));   // Flow<[[2]], [[2]]>, tensors [N, 2]
    const dist = transformed(standardNormal([2]), flow);            // Distribution<[[2]]>
    // @ts-expect-error the base is [3], the flow gives [2]
    expect(() => transformed(standardNormal([3]), flow)).toThrow();
    const learntBase = transformed(diagonalNormal([2]), flow);      // a base with learnt mean and log std
    expect(learntBase.kind).toBe('transformed');

    const params = initDistribution(dist, { seed: 0, data: x });     // ActNorm (and a diagonal base) fit `x`
    const lp = logProb(dist, params)(x);                             // [N], nats
    const { x: draws } = sample(dist, params)(1000, { seed: 1 });    // [1000, 2], deterministic in the seed
    const { x: d2, logProb: lq } = sampleAndLogProb(dist, params)(1000, { seed: 1 }); // log p from the same pass
    samplingCost(dist);                                              // 'analytic' | 'sequential' | 'integrated' (an ODE)
    expect(samplingCost(dist)).toBe('analytic');
    expect(lp.shape).toEqual([2000]);
    expect(draws.shape).toEqual([1000, 2]);
    const again = logProb(dist, params)(d2);
    expect(tf.max(tf.abs(tf.sub(again, lq))).dataSync()[0]).toBeLessThan(1e-3);
    tf.dispose([lp, draws, d2, lq, again]);
    disposeParams(params);

    {
      const fit = capped; // the doc's 2,000 steps, capped at 100 here
      const r = fit(dist, x, { steps: 2000, batchSize: 256, lr: 5e-3, seed: 0, onProgress: (p) => console.log(p) });
      r.params;                 // the params of the best validation NLL
      r.trainNll; r.validationNll; r.history.train; r.history.validation; r.stoppedEarly;
      expect(r.steps).toBe(100);
      // A Gaussian fits the moons' first two moments: the NLL of the Gaussian of the data's mean and covariance.
      expect(Math.abs((r.validationNll as number) - gaussianNll)).toBeLessThan(0.1);
      disposeParams(r.params);
    }
    vi.restoreAllMocks();
  });

  it('section 5: RealNVP, MAF, IAF and NSF on vectors fit the two moons', () => {
    // RealNVP: affine couplings with an MLP on alternating halves (reverse swaps them).
    const realnvp = repeat(chain(actnorm([2]), affineCoupling([2], { net: mlp({ hidden: [64, 64] }) }), reverse([2])), 6);
    // MAF: autoregressive affine layers; density in one pass, sampling in D passes.
    const maf = repeat(chain(maskedAutoregressive([2], { net: made({ hidden: [64, 64] }) }), reverse([2])), 5);
    // IAF: the same layers inverted; sampling in one pass, density in D passes.
    const iaf = repeat(chain(inverseAutoregressive([2], { net: made({ hidden: [64, 64] }) }), reverse([2])), 5);
    // NSF: autoregressive rational-quadratic splines, 8 bins on [-4, 4], identity outside.
    const nsf = repeat(chain(maskedAutoregressive([2], { net: made({ hidden: [64, 64] }), transformer: 'spline', bins: 8, bound: 4 }), reverse([2])), 5);

    // The examples/ specs are these flows, and the benchmark's.
    expect(maf2d()).toEqual(maf);
    expect(nsf2d()).toEqual(nsf);
    expect(densityFlow(2, 'MAF')).toEqual(maf);
    expect(densityFlow(2, 'NSF')).toEqual(nsf);
    // The doc's table of costs: densityCost / samplingCost of each.
    const costs = (f: typeof maf) => [densityCost(transformed(standardNormal([2]), f)), samplingCost(transformed(standardNormal([2]), f))];
    expect([realnvp, maf, iaf, nsf].map(costs)).toEqual([
      ['analytic', 'analytic'],
      ['analytic', 'sequential'],
      ['sequential', 'analytic'],
      ['analytic', 'sequential'],
    ]);
    // A continuous flow solves an ODE both ways, and it dominates the closed-form layers beside it;
    // an autoregressive inverse still dominates an ODE (D solves' worth of passes).
    const field = cnf([2], { hidden: [8], frequencies: 2, solver: { kind: 'rk4', steps: 4 } });
    expect(costs(field as unknown as typeof maf)).toEqual(['integrated', 'integrated']);
    expect(costs(chainOf([realnvp, field]) as unknown as typeof maf)).toEqual(['integrated', 'integrated']);
    expect(costs(chainOf([field, maf]) as unknown as typeof maf)).toEqual(['integrated', 'sequential']);

    // Each one, 40 steps from the identity (the standard normal), improves on it.
    for (const flow of [realnvp, maf, iaf, nsf]) {
      const r = fitDist(transformed(standardNormal([2]), flow), x, { steps: 40, batchSize: 128, lr: 5e-3, seed: 0, evalEvery: 20 });
      expect(r.validationNll as number).toBeLessThan((r.history.validation[0]?.nll as number) - 0.2);
      disposeParams(r.params);
    }

    const fit = capped; // the doc's 2,000 steps, capped at 100 here
    const dist = transformed(standardNormal([2]), nsf);
    const r = fit(dist, x, { steps: 2000, batchSize: 256, lr: 5e-3, seed: 0 });   // x: points [N, 2]
    const { x: draws } = sample(dist, r.params)(500, { seed: 1 });
    expect([samplingCost(dist), densityCost(dist)]).toEqual(['sequential', 'analytic']);
    expect(draws.shape).toEqual([500, 2]);
    expect(r.validationNll as number).toBeLessThan((r.history.validation[0]?.nll as number) - 0.3);
    tf.dispose(draws);
    disposeParams(r.params);
    expect(fitVariational).toBeTypeOf('function');
  }, 90_000);

  const commandsOf = (line: string): boolean => blocks('sh').some((block) => block.split('\n').some((l) => l.trim().startsWith(line)));

  it('its command lines run: verify passes on the example specs; the first fit runs (20 steps here), the others name existing files', () => {
    const commands = blocks('sh').flatMap((b) => b.split('\n')).map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l.startsWith('npx typed-flows '));
    const verify = commands.filter((c) => c.startsWith('npx typed-flows verify '));
    const fits = commands.filter((c) => c.startsWith('npx typed-flows fit '));
    expect(verify.length).toBe(1);
    expect(fits.length).toBeGreaterThanOrEqual(4);
    const run = (args: string[]) => spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'wasm' } });
    for (const c of verify) {
      const r = run(c.split(/\s+/).slice(2));
      expect(r.status, `${c}\n${r.stderr}`).toBe(0);
    }
    const options = (c: string): string[] => c.split(/\s+/).filter((a) => a.startsWith('--'));
    const known = ['--flow', '--data', '--test', '--steps', '--seed', '--base', '--output'];
    const presets = ['nsf', 'maf', 'realnvp', 'gaussian', 'gmm'];
    for (const c of fits) {
      expect(options(c).filter((o) => !known.includes(o)), c).toEqual([]);
      const args = c.split(/\s+/);
      const value = (flag: string): string => args[args.indexOf(flag) + 1] as string;
      const flow = value('--flow');
      expect(presets.includes(flow) || existsSync(flow), c).toBe(true);
      // The measured toys are files the doc's script writes first; the rest ship in examples/.
      if (value('--data').startsWith('runs/toys/')) expect(commandsOf('npx tsx scripts/density-toys.ts runs/toys')).toBe(true);
      else expect(existsSync(value('--data')), c).toBe(true);
    }
    const args = (fits[0] as string).split(/\s+/).slice(2);
    args[args.indexOf('--steps') + 1] = '20';
    args[args.indexOf('--output') + 1] = join(tmp, 'fit');
    const r = run(args);
    expect(r.status, `${fits[0]}\n${r.stderr}`).toBe(0);
    expect(existsSync(join(tmp, 'fit', 'density.png'))).toBe(true);
  }, 90_000);

  it('the example MAF and NSF satisfy the flow laws', () => {
    for (const flow of [maf2d(), nsf2d()]) {
      const report = verifyFlow(flow, { seed: 3 });
      expect(report.passed, JSON.stringify(report.checks)).toBe(true);
    }
  });
});

describe('bench/density-data.ts', () => {
  it('is deterministic in the seed and its known densities integrate their samples', () => {
    expect(twoMoons.sample(3, 5)).toEqual(twoMoons.sample(3, 5));
    expect(twoMoons.sample(3, 5)).not.toEqual(twoMoons.sample(3, 6));
    // Checkerboard: every sample is on a black square, where the density is 1/8.
    const logDensity = checkerboard.logDensity as (x: readonly number[]) => number;
    expect(checkerboard.sample(500, 1).every((p) => logDensity(p) === -Math.log(8))).toBe(true);
    expect(logDensity([-1.5, -0.5])).toBe(-Infinity); // a white square
    // Eight Gaussians of std 0.2, well apart: entropy ~ log 8 + log(2 pi e 0.2^2).
    const h = entropyEstimate(eightGaussians, 20_000, 2);
    expect(Math.abs(h.value - (Math.log(8) + Math.log(2 * Math.PI * Math.E * 0.04)))).toBeLessThan(4 * h.stderr + 1e-3);
    // The mixture: the sample mean of -log p matches the estimate from another seed.
    const mixture = gaussianMixture({ dims: 8, components: 6, seed: 12 });
    const a = entropyEstimate(mixture, 5000, 1);
    const b = entropyEstimate(mixture, 5000, 2);
    expect(Math.abs(a.value - b.value)).toBeLessThan(4 * Math.hypot(a.stderr, b.stderr));
    expect(DENSITY_ARCHITECTURE.layers).toBe(5);
  });
});
