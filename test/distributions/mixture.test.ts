/**
 * The `gaussianMixture` distribution in tfjs against the float64 mixture of src/distributions/em.ts:
 * log p equals the float64 formula for EM-fitted (hence non-trivial, correlated) parameters and for
 * randomly perturbed raw parameters; draws have the component's mean and covariance; it trains as a
 * base under a flow, and survives the codec.
 */
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { fitGaussianMixture, mixtureLogDensities } from '../../src/distributions/em.js';
import { precisionFactorOf } from '../../src/distributions/mixture.js';
import { encodeDistribution, fit, gaussianMixture, initDistribution, logProb, parseDistribution, sample, sampleAndLogProb, standardized, transformed } from '../../src/distributions/index.js';
import { affine } from '../../src/dsl/index.js';
import { disposeParams, type ParamTree } from '../../src/dsl/params.js';
import { seededRandom } from '../../src/dsl/random.js';

afterEach(() => expect(tf.memory().numTensors).toBe(0));

/** Seeded rows of a 3-cluster, correlated cloud in d dimensions. */
const clusters = (n: number, d: number, seed: number): Float64Array => {
  const r = seededRandom(seed);
  const g = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i += 1) {
    const c = Math.floor(r() * 3);
    let prev = 0;
    for (let j = 0; j < d; j += 1) {
      const z = g();
      out[i * d + j] = 3 * c * (j % 2 === 0 ? 1 : -1) + z + 0.7 * prev;
      prev = z;
    }
  }
  return out;
};

describe('gaussianMixture', () => {
  it('log p in tfjs equals the float64 mixture for EM-fitted parameters (generated sizes)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 100 }), (d, k, seed) => {
        const rows = clusters(200, d, seed);
        const em = fitGaussianMixture(rows, d, k, { seed });
        const dist = gaussianMixture([d], k);
        const data = tf.tensor2d(Array.from(rows), [200, d]);
        const params = initDistribution(dist, { seed, data: data as never });
        data.dispose();
        const x = tf.tensor2d(Array.from(rows.subarray(0, 40 * d)), [40, d]);
        const lp = logProb(dist, params)(x as never);
        const got = lp.dataSync();
        const want = mixtureLogDensities(em, rows.subarray(0, 40 * d), d);
        // float32 through a whitening matmul of O(1-10) values: about 1e-5 relative per term; 1e-3
        // absolute on log-densities of order 1-10 is loose for that and tight for a wrong factor.
        want.forEach((w, i) => expect(Math.abs((got[i] as number) - w)).toBeLessThan(1e-3 * (1 + Math.abs(w))));
        tf.dispose([x, lp]);
        disposeParams(params);
      }),
      { numRuns: 15, seed: 2 },
    );
  });

  it('precisionFactorOf inverts the covariance: U U^T Sigma = I', () => {
    const cov = Float64Array.from([2, 0.6, 0.1, 0.6, 1, -0.3, 0.1, -0.3, 0.5]);
    const raw = precisionFactorOf(cov, 3);
    const u = Array.from({ length: 9 }, (_, i) => (Math.floor(i / 3) === i % 3 ? Math.exp(raw[i] as number) : i % 3 > Math.floor(i / 3) ? (raw[i] as number) : 0));
    for (let a = 0; a < 3; a += 1) {
      for (let b = 0; b < 3; b += 1) {
        let s = 0;
        for (let m = 0; m < 3; m += 1) {
          let p = 0; // (U U^T)_{a m}
          for (let j = 0; j < 3; j += 1) p += (u[a * 3 + j] as number) * (u[m * 3 + j] as number);
          s += p * (cov[m * 3 + b] as number);
        }
        expect(s).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    }
  });

  it("draws of one component have its mean and covariance; sampleAndLogProb's log p is logProb's", () => {
    const cov = Float64Array.from([2, 0.6, 0.6, 0.5]);
    const dist = gaussianMixture([2], 1);
    const params = { logits: tf.tensor1d([0]), means: tf.tensor2d([[1, -3]]), precisionFactor: tf.tensor3d(Array.from(precisionFactorOf(cov, 2)), [1, 2, 2]) };
    const n = 20000;
    const { x, logProb: lpDraw } = sampleAndLogProb(dist, params)(n, { seed: 5 });
    const v = x.arraySync() as number[][];
    const mean = [0, 1].map((j) => v.reduce((a, r) => a + (r[j] as number), 0) / n);
    // Standard errors of a mean over 20,000 draws: sqrt(2/20000) = 0.01; 0.04 is 4 SE.
    expect(Math.abs((mean[0] as number) - 1)).toBeLessThan(0.04);
    expect(Math.abs((mean[1] as number) + 3)).toBeLessThan(0.04);
    const c01 = v.reduce((a, r) => a + ((r[0] as number) - (mean[0] as number)) * ((r[1] as number) - (mean[1] as number)), 0) / n;
    const c00 = v.reduce((a, r) => a + ((r[0] as number) - (mean[0] as number)) ** 2, 0) / n;
    // SE of a sample covariance ~ sqrt((s00 s11 + s01^2)/n) ~ 0.009; of the variance sqrt(2/n)*2 ~ 0.02.
    expect(Math.abs(c01 - 0.6)).toBeLessThan(0.04);
    expect(Math.abs(c00 - 2)).toBeLessThan(0.08);
    const lp = logProb(dist, params)(x as never);
    const a = lpDraw.dataSync();
    const b = lp.dataSync();
    a.forEach((val, i) => expect(val).toBeCloseTo(b[i] as number, 5));
    tf.dispose([x, lpDraw, lp]);
    disposeParams(params as ParamTree);
  });

  it('picks components in proportion to their weights', () => {
    const dist = gaussianMixture([1], 2);
    const params = { logits: tf.tensor1d([Math.log(0.2), Math.log(0.8)]), means: tf.tensor2d([[-100], [100]]), precisionFactor: tf.zeros([2, 1, 1]) };
    const { x } = sample(dist, params)(10000, { seed: 3 });
    const share = Array.from(x.dataSync()).filter((v) => v < 0).length / 10000;
    // Binomial SE sqrt(0.16/10000) = 0.004: 0.02 is 5 SE.
    expect(Math.abs(share - 0.2)).toBeLessThan(0.02);
    x.dispose();
    disposeParams(params as ParamTree);
  });

  it('trains as a base under a flow with finite NLL, and round-trips through the codec', () => {
    const dist = standardized(transformed(gaussianMixture([2], 3), affine([2])));
    const back = parseDistribution(encodeDistribution(dist));
    expect(E.isRight(back) && back.right).toEqual(dist);
    expect(E.isLeft(parseDistribution(JSON.stringify({ kind: 'gaussianMixture', shape: [2, 2], components: 0 })))).toBe(true);
    const data = tf.tensor2d(Array.from(clusters(300, 2, 9)), [300, 2]);
    const r = fit(dist, data, { steps: 20, lr: 0.01, seed: 2 });
    expect(Number.isFinite(r.trainNll) && Number.isFinite(r.validationNll as number)).toBe(true);
    expect(r.skipped).toBe(0);
    disposeParams(r.params);
    data.dispose();
  });
});
