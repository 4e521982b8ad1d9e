/**
 * C2ST (sbibm's definition, src/metrics/c2st.ts): two samples of one distribution score near 0.5, two
 * clearly different ones near 1, and a seed fixes the result.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/dsl/random.js';
import { c2st } from '../../src/metrics/c2st.js';

const gaussian = (n: number, d: number, shift: number, seed: number): Float64Array => {
  const r = seededRandom(seed);
  return Float64Array.from({ length: n * d }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()) + shift);
};

describe('c2st', () => {
  it('is near 0.5 for two samples of one Gaussian, near 1 for Gaussians 4 std apart, and deterministic in its seed', () => {
    const before = tf.memory().numTensors;
    const same = c2st(gaussian(200, 2, 0, 1), gaussian(200, 2, 0, 2), 2, { maxEpochs: 60 });
    // 400 held-out predictions in all: a chance-level accuracy has SE 0.025; a small MLP may overfit
    // a little, so allow 0.5 +- 0.1 (4 SE).
    expect(Math.abs(same.accuracy - 0.5)).toBeLessThan(0.1);
    expect(same.foldAccuracies.length).toBe(5);
    const apart = c2st(gaussian(200, 2, 0, 3), gaussian(200, 2, 4, 4), 2, { maxEpochs: 60 });
    // Mean shift 4 in each of 2 coordinates: the Bayes accuracy is Phi(sqrt(32)/2) = 0.998.
    expect(apart.accuracy).toBeGreaterThan(0.95);
    const again = c2st(gaussian(200, 2, 0, 1), gaussian(200, 2, 0, 2), 2, { maxEpochs: 60 });
    expect(again.accuracy).toBe(same.accuracy);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => c2st(gaussian(3, 2, 0, 1), gaussian(200, 2, 0, 2), 2)).toThrow(/at least 5 rows/);
  });
});
