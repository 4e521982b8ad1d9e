/**
 * Gaussian mixtures by EM (src/distributions/em.ts) against closed forms: k = 1 is the sample
 * Gaussian's MLE, a well-separated 2-mixture's means and weights are recovered, log-densities match
 * the Gaussian formula, and a fit is deterministic in its seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cholesky, fitGaussianMixture, mixtureLogDensities, nllWithError, selectGaussianMixture } from '../../src/distributions/em.js';
import { seededRandom } from '../../src/dsl/random.js';

/** Standard-normal draws by Box-Muller from a seeded generator. */
const normals = (n: number, seed: number): Float64Array => {
  const r = seededRandom(seed);
  return Float64Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
};

describe('EM for Gaussian mixtures', () => {
  it('k = 1 is the sample mean and the (biased) sample covariance, plus reg on the diagonal (generated data)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 10, max: 60 }), fc.integer({ min: 0, max: 1000 }), (d, n, seed) => {
        const z = normals(n * d, seed);
        // Correlated columns: x_j = z_j + 0.5 z_{j-1}, shifted by j.
        const rows = Float64Array.from(z, (v, i) => v + (i % d > 0 ? 0.5 * (z[i - 1] as number) : 0) + (i % d));
        const reg = 1e-6;
        const fit = fitGaussianMixture(rows, d, 1, { reg });
        for (let a = 0; a < d; a += 1) {
          let m = 0;
          for (let i = 0; i < n; i += 1) m += rows[i * d + a] as number;
          m /= n;
          // float64 sums of O(1) numbers: 1e-9 is loose.
          expect(Math.abs((fit.means[0]?.[a] as number) - m)).toBeLessThan(1e-9);
        }
        for (let a = 0; a < d; a += 1) {
          for (let b = 0; b < d; b += 1) {
            const ma = fit.means[0]?.[a] as number;
            const mb = fit.means[0]?.[b] as number;
            let c = 0;
            for (let i = 0; i < n; i += 1) c += ((rows[i * d + a] as number) - ma) * ((rows[i * d + b] as number) - mb);
            expect(Math.abs((fit.covariances[0]?.[a * d + b] as number) - (c / n + (a === b ? reg : 0)))).toBeLessThan(1e-9);
          }
        }
        expect(fit.weights).toEqual([1]);
      }),
      { numRuns: 30, seed: 1 },
    );
  });

  it('log-densities equal the Gaussian formula (a diagonal covariance, by hand)', () => {
    const m = { weights: [1], means: [Float64Array.from([1, -2])], covariances: [Float64Array.from([4, 0, 0, 0.25])] };
    const x = Float64Array.from([3, -1.5, 1, -2]);
    const got = mixtureLogDensities(m, x, 2);
    const want = (a: number, b: number): number => -Math.log(2 * Math.PI) - 0.5 * Math.log(4 * 0.25) - 0.5 * (((a - 1) ** 2) / 4 + ((b + 2) ** 2) / 0.25);
    expect(got[0]).toBeCloseTo(want(3, -1.5), 12);
    expect(got[1]).toBeCloseTo(want(1, -2), 12);
    // A two-component mixture is the log of the weighted sum of the components' densities.
    const two = { weights: [0.3, 0.7], means: [Float64Array.from([1, -2]), Float64Array.from([0, 0])], covariances: [Float64Array.from([4, 0, 0, 0.25]), Float64Array.from([1, 0.5, 0.5, 1])] };
    const l = cholesky(Float64Array.from([1, 0.5, 0.5, 1]), 2);
    expect(l[2]).toBeCloseTo(0.5, 12);
    expect(l[3]).toBeCloseTo(Math.sqrt(0.75), 12);
    const second = (a: number, b: number): number => {
      const det = 0.75;
      const q = (a * a - a * b + b * b) / det; // inverse of [[1, .5], [.5, 1]] is [[1, -.5], [-.5, 1]] / .75
      return -Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * q;
    };
    const mixed = mixtureLogDensities(two, x, 2);
    expect(mixed[0]).toBeCloseTo(Math.log(0.3 * Math.exp(want(3, -1.5)) + 0.7 * Math.exp(second(3, -1.5))), 12);
  });

  it('recovers the means and weights of a well-separated 2-mixture, deterministically in the seed', () => {
    const n = 3000;
    const z = normals(n * 2, 5);
    const u = seededRandom(6);
    const truth = [
      [-5, 0],
      [5, 3],
    ] as const;
    const rows = new Float64Array(n * 2);
    let first = 0;
    for (let i = 0; i < n; i += 1) {
      const c = u() < 0.3 ? 0 : 1;
      if (c === 0) first += 1;
      rows[i * 2] = (truth[c][0] as number) + (z[i * 2] as number);
      rows[i * 2 + 1] = (truth[c][1] as number) + 0.5 * (z[i * 2 + 1] as number);
    }
    const fit = fitGaussianMixture(rows, 2, 2, { seed: 3 });
    const order = (fit.means[0]?.[0] as number) < 0 ? [0, 1] : [1, 0];
    order.forEach((k, c) => {
      // Each mean is estimated from ~900 or ~2100 rows of std <= 1: standard error < 0.035; 0.1 is 3 SE.
      expect(Math.abs((fit.means[k]?.[0] as number) - (truth[c]?.[0] as number))).toBeLessThan(0.1);
      expect(Math.abs((fit.means[k]?.[1] as number) - (truth[c]?.[1] as number))).toBeLessThan(0.1);
    });
    // The weight is the share of rows drawn from component 0 (10 sigma apart: no row is ambiguous).
    expect(fit.weights[order[0] as number]).toBeCloseTo(first / n, 6);
    expect(fit.converged).toBe(true);
    const again = fitGaussianMixture(rows, 2, 2, { seed: 3 });
    expect(again.means.map((m) => Array.from(m))).toEqual(fit.means.map((m) => Array.from(m)));
    // Selection on held-out rows prefers k = 2 to k = 1 (and the score of k = 2 is far lower).
    const sel = selectGaussianMixture(rows.subarray(0, 4000), rows.subarray(4000), 2, 3, { seed: 3 });
    expect(sel.k).toBeGreaterThanOrEqual(2);
    expect((sel.validationNll[0] as number) - (sel.validationNll[1] as number)).toBeGreaterThan(0.5);
  });

  it('nllWithError: the mean and the standard error of the mean (closed form on a small sample)', () => {
    const r = nllWithError([-1, -2, -3, -4]);
    expect(r.nll).toBe(2.5);
    // sample variance 5/3, SE sqrt(5/3/4)
    expect(r.standardError).toBeCloseTo(Math.sqrt(5 / 12), 14);
    expect(r.rows).toBe(4);
  });
});
