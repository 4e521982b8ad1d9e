/**
 * Absolute values of CAFLOW's density arithmetic against float64 closed forms (not one derived
 * quantity against another), and per-scale sampling temperatures. Each test here was checked to fail
 * on a realistic single-point bug: the Gaussian log-density without its -1/2 log 2pi, bits/dim
 * without its ln 2, a temperature indexed by the component instead of the scale.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  caflowConfig,
  caflowSpec,
  conditionalBitsPerDim,
  dequantize,
  initCaflow,
  latentsLogProb,
  sample,
  standardNormalLogProb,
  toLatents,
  type CaflowConfig,
} from '../../src/caflow/index.js';

/** log N(z; 0, I) in float64: sum of -z^2/2 - log(2 pi)/2. */
const gaussLog64 = (z: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < z.length; i++) s += -0.5 * (z[i] as number) ** 2 - 0.5 * Math.log(2 * Math.PI);
  return s;
};

describe('standard normal log-density (gaussian.ts), against float64', () => {
  it('z = 0 gives exactly -D/2 log(2 pi) per sample', () => {
    const lp = standardNormalLogProb(tf.zeros([2, 3, 4, 5]) as tf.Tensor4D);
    const expected = -0.5 * 60 * Math.log(2 * Math.PI); // -55.136...
    for (const v of lp.dataSync()) expect(Math.abs(v - expected)).toBeLessThan(1e-4);
    lp.dispose();
  });

  it('property: per-sample sums match sum(-z^2/2 - log(2 pi)/2) in float64, for one latent and several', () => {
    const dims = fc.record({ n: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 4 }), w: fc.integer({ min: 1, max: 4 }), c: fc.integer({ min: 1, max: 4 }) });
    fc.assert(
      fc.property(dims, dims, fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0.1, max: 4, noNaN: true }), (a, b, seed, std) => {
        const n = a.n;
        const z1 = tf.randomNormal([n, a.h, a.w, a.c], 0, std, 'float32', seed + 1) as tf.Tensor4D;
        const z2 = tf.randomNormal([n, b.h, b.w, b.c], 0, std, 'float32', seed + 2) as tf.Tensor4D;
        const one = standardNormalLogProb(z1).dataSync();
        const both = latentsLogProb([z1, z2]).dataSync();
        const v1 = z1.dataSync();
        const v2 = z2.dataSync();
        const d1 = a.h * a.w * a.c;
        const d2 = b.h * b.w * b.c;
        for (let i = 0; i < n; i++) {
          const e1 = gaussLog64(v1.subarray(i * d1, (i + 1) * d1));
          const e2 = gaussLog64(v2.subarray(i * d2, (i + 1) * d2));
          // float32 sums of at most 64 terms of size <= 0.5 * 16^2: relative 1e-5 is ~100 ulps.
          expect(Math.abs((one[i] as number) - e1)).toBeLessThan(1e-5 * (Math.abs(e1) + d1));
          expect(Math.abs((both[i] as number) - (e1 + e2))).toBeLessThan(1e-5 * (Math.abs(e1 + e2) + d1 + d2));
        }
        tf.dispose([z1, z2]);
      }),
      { numRuns: 40 },
    );
  });
});

describe('bits per dimension (likelihood.ts), against float64', () => {
  it('-log p / (D ln 2) for hand-picked log-likelihoods', () => {
    const ll = tf.tensor1d([-1000, 37.5, 0, -1e-3]);
    const w = tf.zeros([4, 4, 4, 2]) as tf.Tensor4D; // D = 32
    const got = conditionalBitsPerDim(ll, w).dataSync();
    const expected = [1000 / (32 * Math.LN2), -37.5 / (32 * Math.LN2), 0, 1e-3 / (32 * Math.LN2)];
    expected.forEach((e, i) => expect(Math.abs((got[i] as number) - e)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(e))));
    // 1000 nats over 32 dims: 45.084... bits/dim (45.08 and not 31.25 = 1000/32, nor 65.04 = 1000/(32 ln2^2)).
    expect(got[0]).toBeCloseTo(45.0842, 3);
    tf.dispose([ll, w]);
  });
});

const tiny = (overrides: Partial<CaflowConfig>): CaflowConfig =>
  caflowConfig({ target: [1, 16, 16], condition: [1, 16, 16], scales: 3, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 4, conditionalHidden: 4, ...overrides });

describe.each(['caflow', 'dualglow'] as const)('%s: per-scale temperature (sample.ts)', (variant) => {
  it('every latent at scale s is the temperature-1 latent times tau[s] (scale read off its resolution)', () => {
    const m = caflowSpec(tiny({ variant }));
    const w8 = tf.floor(tf.randomUniform([4, 16, 16, 1], 0, 256, 'float32', 1)) as tf.Tensor4D;
    const y8 = tf.floor(tf.randomUniform([4, 16, 16, 1], 0, 256, 'float32', 2)) as tf.Tensor4D;
    const w = dequantize(w8, 'center');
    const y = dequantize(y8, 'center');
    const params = initCaflow(m, { seed: 3, w, y });
    const taus = [0.3, 0.6, 0.9];
    // k = 1: no ranking reorders rows, so both calls see the same noise in the same rows.
    const hot = sample(m, params)(y, { k: 1, temperature: 1, seed: 7 });
    const cold = sample(m, params)(y, { k: 1, temperature: taus, seed: 7 });
    const zHot = toLatents(m, params)(hot.w, y).z;
    const zCold = toLatents(m, params)(cold.w, y).z;
    const seen = new Set<number>();
    zHot.forEach((zi, i) =>
      zi.forEach((t, j) => {
        // At scale s a latent sits at the resolution of squeeze(L_s): H / 2^(s+2).
        const s = Math.log2(16 / (t.shape[1] as number)) - 2;
        seen.add(s);
        const expected = tf.mul(t, taus[s] as number);
        const err = tf.max(tf.abs(tf.sub(zCold[i]?.[j] as tf.Tensor, expected))).dataSync()[0] as number;
        const size = tf.max(tf.abs(t)).dataSync()[0] as number;
        expect(size).toBeGreaterThan(1);
        expect(err, `z_${i}^${j} (scale ${s}): tau ${taus[s]}`).toBeLessThan(2e-3);
        expected.dispose();
      }),
    );
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });
});
