/** Statistics over seeds (src/experiments/seeds.ts) against hand-computed float64 closed forms. */
import { describe, expect, it } from 'vitest';
import { mean, pairBySeed, pairedDifferences, parseRunName, sampleStd, seedRunName, summarize, sweepSeeds, tQuantile975, verdict, type SeedValue } from '../../src/experiments/seeds.js';

const values = (xs: readonly number[], se?: number): SeedValue[] => xs.map((value, seed) => ({ seed, value, ...(se === undefined ? {} : { standardError: se }) }));

describe('run names of a sweep', () => {
  it('<stem>-s<seed> splits into model and seed; other names are their own model', () => {
    expect(parseRunName('mnist-sr-s3')).toEqual({ stem: 'mnist-sr', seed: 3 });
    expect(parseRunName('demo-caflow-s12')).toEqual({ stem: 'demo-caflow', seed: 12 });
    expect(parseRunName('mnist-sr')).toEqual({ stem: 'mnist-sr', seed: undefined });
    expect(parseRunName('-s1')).toEqual({ stem: '-s1', seed: undefined });
    expect(parseRunName('runs-sx')).toEqual({ stem: 'runs-sx', seed: undefined });
    expect(seedRunName('a', 4)).toBe('a-s4');
    expect(sweepSeeds(5, 3)).toEqual([5, 6, 7]);
  });
});

describe('mean and sample standard deviation', () => {
  it('match the closed forms', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    // ((1.5)^2 + (0.5)^2 + (0.5)^2 + (1.5)^2) / 3 = 5/3
    expect(sampleStd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 14);
    expect(sampleStd([2, 2, 2])).toBe(0);
    expect(summarize([1.3, 1.5])).toEqual({ n: 2, mean: 1.4, std: expect.closeTo(Math.SQRT2 * 0.1, 14) as unknown as number });
  });

  it('one value has no spread (null), none has no mean', () => {
    expect(sampleStd([7])).toBeNull();
    expect(summarize([7])).toEqual({ n: 1, mean: 7, std: null });
    expect(mean([])).toBeNaN();
  });
});

describe('t quantiles', () => {
  it('table values and the expansion beyond 30 degrees of freedom (scipy.stats.t.ppf(0.975, df))', () => {
    expect(tQuantile975(1)).toBe(12.706204736);
    expect(tQuantile975(2)).toBe(4.30265273);
    expect(tQuantile975(30)).toBe(2.042272456);
    expect(tQuantile975(40)).toBeCloseTo(2.02107539, 4);
    expect(tQuantile975(120)).toBeCloseTo(1.97993041, 5);
    expect(() => tQuantile975(0)).toThrow(RangeError);
  });
});

describe('pairing by seed', () => {
  it('pairs equal seeds and lists the unpaired ones', () => {
    const a = [0, 1, 2].map((seed) => ({ seed, value: seed }));
    const b = [2, 0, 5].map((seed) => ({ seed, value: 10 + seed }));
    const p = pairBySeed(a, b);
    expect(p.seeds).toEqual([0, 2]);
    expect(pairedDifferences(p.a.map((v) => v.value), p.b.map((v) => v.value))).toEqual([-10, -10]);
    expect(p.unpaired).toEqual([1, 5]);
    expect(() => pairedDifferences([1], [1, 2])).toThrow(RangeError);
  });
});

describe('the verdict', () => {
  // NLLs of three seeds: d = a - b = [-0.05, -0.04, -0.06], mean -0.05, s_d = sqrt((0 + 1e-4 + 1e-4) / 2) = 0.01.
  const a = [1.3, 1.32, 1.31];
  const b = [1.35, 1.36, 1.37];

  it('better: the difference is outside t(0.975, 2) * s_d / sqrt(3)', () => {
    const v = verdict(values(a), values(b), 'lower');
    const se = 0.01 / Math.sqrt(3);
    expect(v.kind).toBe('a');
    expect(v.n).toBe(3);
    expect(v.meanDifference).toBeCloseTo(-0.05, 14);
    expect(v.std).toBeCloseTo(0.01, 14);
    expect(v.standardError).toBeCloseTo(se, 14);
    expect(v.halfWidth).toBeCloseTo(4.30265273 * se, 14);
    // The same numbers with higher = better: b wins.
    expect(verdict(values(a), values(b), 'higher').kind).toBe('b');
  });

  it("the runs' own standard errors widen the interval: small ones keep the verdict, large ones make it within noise", () => {
    // e = 0.008 per run: SE^2 = 1e-4 / 3 + 3 * 2 * 0.008^2 / 9.
    const small = verdict(values(a, 0.008), values(b, 0.008));
    expect(small.standardError).toBeCloseTo(Math.sqrt(1e-4 / 3 + (6 * 0.008 ** 2) / 9), 14);
    expect(small.kind).toBe('a');
    // e = 0.015: SE = sqrt(1e-4 / 3 + 6 * 0.015^2 / 9) = 0.013540, half-width 0.05826 > 0.05.
    const large = verdict(values(a, 0.015), values(b, 0.015));
    expect(large.halfWidth).toBeCloseTo(4.30265273 * Math.sqrt(1e-4 / 3 + (6 * 0.015 ** 2) / 9), 14);
    expect(large.kind).toBe('within-noise');
  });

  it('within noise: differences of both signs', () => {
    // d = [-0.5, 1, -0.2], mean 0.1, s_d^2 = (0.36 + 0.81 + 0.09) / 2 = 0.63.
    const v = verdict(values([1, 2, 3]), values([1.5, 1, 3.2]));
    expect(v.kind).toBe('within-noise');
    expect(v.meanDifference).toBeCloseTo(0.1, 14);
    expect(v.std).toBeCloseTo(Math.sqrt(0.63), 14);
    expect(v.halfWidth).toBeCloseTo(4.30265273 * Math.sqrt(0.63 / 3), 14);
  });

  it('one seed: no spread, never "better", however large the difference', () => {
    const v = verdict(values([1]), values([100]));
    expect(v).toEqual({ kind: 'single-seed', n: 1, meanDifference: -99, std: null, standardError: null, halfWidth: null });
    // Not even with the NLL's own (tiny) standard errors.
    expect(verdict(values([1], 1e-6), values([2], 1e-6)).kind).toBe('single-seed');
  });

  it('a non-finite value (a diverged run) gets no verdict, with one seed or several', () => {
    expect(verdict(values([1, NaN, 3]), values([2, 3, 4])).kind).toBe('not-finite');
    expect(verdict(values([1]), values([Infinity])).kind).toBe('not-finite');
    expect(verdict(values([1, 2]), values([2, 3], NaN)).kind).toBe('not-finite');
  });

  it('two seeds use t(0.975, 1) = 12.71', () => {
    // d = [-1, -3]: mean -2, s_d = sqrt(2), SE = 1, half-width 12.706 > 2: within noise.
    const v = verdict(values([0, 0]), values([1, 3]));
    expect(v.standardError).toBeCloseTo(1, 14);
    expect(v.kind).toBe('within-noise');
  });
});
