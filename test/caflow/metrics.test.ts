/** RMSE, PSNR, SSIM and sample diversity against hand-computed values, plus properties. */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { diversity, PSNR_OF_IDENTICAL, psnr, rmse, ssim, ssimWindowSize } from '../../src/metrics/index.js';

let a: tf.Tensor4D;
beforeAll(() => {
  a = tf.tidy(() => tf.floor(tf.randomUniform([2, 16, 16, 1], 20, 200, 'float32', 3)) as tf.Tensor4D);
});
afterAll(() => a.dispose());

let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before);
});

/** Runs `f` on tensors made inside a tidy scope, so the test leaks nothing. */
const scoped = <T>(f: () => T): T => {
  let out: T | undefined;
  tf.tidy(() => {
    out = f();
  });
  return out as T;
};

const constant = (values: readonly number[], h = 4, w = 4): tf.Tensor4D =>
  tf.concat(values.map((v) => tf.fill([1, h, w, 1], v))) as tf.Tensor4D;

describe('rmse', () => {
  it('of a constant offset d is d', () => {
    for (const d of [0, 1, 7, 100]) expect(scoped(() => rmse(a, tf.add(a, d) as tf.Tensor4D))).toBeCloseTo(d, 4);
  });

  it('is per image, then averaged over images', () => {
    // Offsets 3 and 5: per-image RMSEs 3 and 5 average to 4 (pooled it would be sqrt(17)).
    expect(scoped(() => rmse(constant([10, 10]), constant([13, 15])))).toBeCloseTo(4, 6);
    // Half the pixels off by 10: sqrt(mean of [100, 0]) = sqrt(50), over C*H*W including channels.
    const half = scoped(() => rmse(tf.zeros([1, 2, 2, 2]) as tf.Tensor4D, tf.tensor4d([10, 0, 10, 0, 10, 0, 10, 0], [1, 2, 2, 2])));
    expect(half).toBeCloseTo(Math.sqrt(50), 5);
  });

  it('rejects images of different shapes', () => {
    expect(() => scoped(() => rmse(a, tf.zeros([2, 16, 16, 3]) as tf.Tensor4D))).toThrow(/same NHWC shape/);
  });

  it('is symmetric and non-negative (property)', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.double({ min: 0, max: 60, noNaN: true }), (seed, sd) => {
        const [ab, ba] = scoped(() => {
          const b = tf.add(a, tf.randomNormal(a.shape, 0, sd, 'float32', seed)) as tf.Tensor4D;
          return [rmse(a, b), rmse(b, a)];
        });
        expect(ab).toBeGreaterThanOrEqual(0);
        expect(ab).toBeCloseTo(ba, 4);
      }),
      { numRuns: 30 },
    );
  });
});

describe('psnr', () => {
  it('is 10 log10(1 / MSE) on the [0, 1] scale, per image then averaged', () => {
    const d = 7;
    expect(scoped(() => psnr(a, tf.add(a, d) as tf.Tensor4D))).toBeCloseTo(10 * Math.log10(1 / (d / 255) ** 2), 3); // 31.229 dB
    expect(10 * Math.log10(1 / (7 / 255) ** 2)).toBeCloseTo(31.2288, 3);
    const mixed = scoped(() => psnr(constant([10, 10]), constant([13, 15])));
    expect(mixed).toBeCloseTo((10 * Math.log10(255 ** 2 / 9) + 10 * Math.log10(255 ** 2 / 25)) / 2, 3);
  });

  it('counts identical images as 100 dB', () => {
    expect(PSNR_OF_IDENTICAL).toBe(100);
    expect(psnr(a, a)).toBe(100);
    // One identical image and one off by 255 everywhere (0 dB).
    expect(scoped(() => psnr(constant([0, 0]), constant([0, 255])))).toBeCloseTo(50, 6);
  });

  it('decreases as the noise grows (property)', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.double({ min: 0.5, max: 40, noNaN: true }), fc.double({ min: 1.2, max: 4, noNaN: true }), (seed, sd, factor) => {
        const [p1, p2] = scoped(() => {
          const noise = tf.randomNormal(a.shape, 0, 1, 'float32', seed);
          return [psnr(a, tf.add(a, tf.mul(noise, sd)) as tf.Tensor4D), psnr(a, tf.add(a, tf.mul(noise, sd * factor)) as tf.Tensor4D)];
        });
        expect(p2).toBeLessThan(p1);
      }),
      { numRuns: 30 },
    );
  });
});

describe('ssim', () => {
  it('is 1 for identical images and drops with noise, more noise lower', () => {
    expect(ssim(a, a)).toBeCloseTo(1, 5);
    const [s10, s40] = scoped(() => [10, 40].map((sd) => ssim(a, tf.add(a, tf.randomNormal(a.shape, 0, sd, 'float32', 4)) as tf.Tensor4D)));
    expect(s10).toBeLessThan(0.99);
    expect(s40).toBeLessThan(s10!);
    expect(s40).toBeGreaterThan(-1);
  });

  it('reduces to the luminance term for constant images (hand-computed)', () => {
    // Zero variances make the contrast-structure factor C2 / C2 = 1, leaving
    // (2 mu_a mu_b + C1) / (mu_a^2 + mu_b^2 + C1) with C1 = (0.01 * 255)^2 = 6.5025.
    const c1 = (0.01 * 255) ** 2;
    const expected = (2 * 100 * 150 + c1) / (100 ** 2 + 150 ** 2 + c1); // 30006.5025 / 32506.5025
    expect(expected).toBeCloseTo(0.92309, 4);
    expect(scoped(() => ssim(constant([100], 16, 16), constant([150], 16, 16)))).toBeCloseTo(expected, 4);
  });

  it('averages over channels and images', () => {
    const rgbA = tf.tidy(() => tf.concat([constant([100], 12, 12), constant([100], 12, 12), constant([50], 12, 12)], 3) as tf.Tensor4D);
    const rgbB = tf.tidy(() => tf.concat([constant([100], 12, 12), constant([150], 12, 12), constant([50], 12, 12)], 3) as tf.Tensor4D);
    const c1 = (0.01 * 255) ** 2;
    const lum = (x: number, y: number): number => (2 * x * y + c1) / (x * x + y * y + c1);
    expect(ssim(rgbA, rgbB)).toBeCloseTo((1 + lum(100, 150) + 1) / 3, 4);
    tf.dispose([rgbA, rgbB]);
  });

  it('uses the largest odd window that fits images smaller than 11 pixels', () => {
    expect(ssimWindowSize(32, 32)).toBe(11);
    expect(ssimWindowSize(11, 40)).toBe(11);
    expect(ssimWindowSize(8, 8)).toBe(7);
    expect(ssimWindowSize(9, 6)).toBe(5);
    expect(ssimWindowSize(1, 1)).toBe(1);
    const small = tf.tidy(() => tf.floor(tf.randomUniform([2, 6, 6, 3], 0, 256, 'float32', 9)) as tf.Tensor4D);
    expect(ssim(small, small)).toBeCloseTo(1, 5);
    expect(scoped(() => ssim(small, tf.reverse(small, 2) as tf.Tensor4D))).toBeLessThan(0.9);
    small.dispose();
  });

  it('is symmetric (property)', () => {
    fc.assert(
      fc.property(fc.nat(10_000), (seed) => {
        const [ab, ba] = scoped(() => {
          const b = tf.clipByValue(tf.add(a, tf.randomNormal(a.shape, 0, 25, 'float32', seed)), 0, 255) as tf.Tensor4D;
          return [ssim(a, b), ssim(b, a)];
        });
        expect(ab).toBeCloseTo(ba, 4);
        expect(ab).toBeLessThanOrEqual(1 + 1e-6);
      }),
      { numRuns: 10 },
    );
  });
});

describe('diversity', () => {
  it('is 0 for identical samples', () => {
    const same = tf.tidy(() => tf.tile(tf.slice(a, [0, 0, 0, 0], [1, -1, -1, -1]), [3, 1, 1, 1]) as tf.Tensor4D);
    expect(diversity(same, 3)).toBe(0);
    expect(diversity(a, 1)).toBe(0);
    same.dispose();
  });

  it('is the mean pairwise RMSE within each condition, averaged over conditions (hand-computed)', () => {
    // Condition 0: samples 0, 3, 9 -> pair RMSEs 3, 9, 6 -> mean 6.
    // Condition 1: samples 5, 5, 7 -> pair RMSEs 0, 2, 2 -> mean 4/3. Average: (6 + 4/3) / 2 = 11/3.
    expect(scoped(() => diversity(constant([0, 3, 9, 5, 5, 7]), 3))).toBeCloseTo(11 / 3, 5);
    // Samples of different conditions are never compared.
    expect(scoped(() => diversity(constant([0, 0, 200, 200]), 2))).toBe(0);
    expect(() => scoped(() => diversity(constant([0, 0, 0]), 2))).toThrow(/dividing/);
  });

  it('is invariant to the order of the samples within a condition (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (vs) => {
        const d1 = scoped(() => diversity(constant(vs), 4));
        const d2 = scoped(() => diversity(constant([...vs].reverse()), 4));
        expect(d1).toBeCloseTo(d2, 6);
        expect(d1).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 20 },
    );
  });
});
