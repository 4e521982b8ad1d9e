/**
 * The held-out NLL with uniform dequantisation noise (src/experiments/evaluate.ts): its mean over
 * draws matches a direct Monte-Carlo estimate whose noise is drawn and averaged in float64 here, its
 * standard errors follow the float64 formulas, and the mid-bin (u = 0.5) figure is reported beside
 * it. A regression to mid-bin dequantisation, noise on the wrong interval, or a wrong standard error
 * fails these tests.
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../src/dsl/random.js';
import { describe, expect, it } from 'vitest';
import { caflowConfig, caflowSpec, initCaflow, logLikelihood } from '../../src/caflow/index.js';
import { evaluate, heldOutNll, meanAndStandardError, sampleRanked, sampleRankedInBatches } from '../../src/experiments/evaluate.js';
import { pairsAt } from '../../src/experiments/paired-data.js';
import type { PairedData } from '../../src/experiments/paired-data.js';
import { decodeRunConfig, presets, type RunConfig } from '../../src/experiments/config.js';
import * as E from 'fp-ts/lib/Either.js';

describe('meanAndStandardError, against float64 closed forms', () => {
  it('hand-picked values', () => {
    const a = meanAndStandardError([1, 2, 3, 4]);
    expect(a.mean).toBe(2.5);
    expect(a.standardError).toBeCloseTo(Math.sqrt(5 / 12), 14); // sample variance 5/3, over n = 4
    expect(meanAndStandardError([7])).toEqual({ mean: 7, standardError: 0 });
    const b = meanAndStandardError([10, 10, 10]);
    expect(b).toEqual({ mean: 10, standardError: 0 });
    const c = meanAndStandardError([0.5, -1.5]);
    expect(c.mean).toBe(-0.5);
    expect(c.standardError).toBeCloseTo(1, 14); // sample variance 2, over n = 2
  });
});

/** Mean and standard error written out here, so the checks below do not lean on the code under test. */
const stats64 = (v: readonly number[]): { mean: number; standardError: number } => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  return { mean, standardError: Math.sqrt(variance / v.length) };
};

/** A float64 uniform generator independent of tfjs's (mulberry32, the library's seededRandom). */
const uniform64 = (seed: number): (() => number) => seededRandom(seed);

describe('held-out NLL with uniform dequantisation noise', () => {
  const count = 12;
  const dims = 64;
  const random = uniform64(42);
  // Digit-like targets: mostly black background (where the density is sharpest within a bin, as in
  // MNIST), with strokes of random intensity; conditions at half intensity.
  const wBytes = Uint8Array.from({ length: count * dims }, () => (random() < 0.7 ? 0 : Math.floor(128 + random() * 128)));
  const yBytes = Uint8Array.from(wBytes, (v) => v >> 1);
  const data: PairedData = { w: wBytes, y: yBytes, count, targetShape: [1, 8, 8], conditionShape: [1, 8, 8] };
  const m = caflowSpec(caflowConfig({ target: [1, 8, 8], condition: [1, 8, 8], scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 4, conditionalHidden: 4 }));
  const w8 = tf.tensor4d(Float32Array.from(wBytes), [count, 8, 8, 1]);
  const y8 = tf.tensor4d(Float32Array.from(yBytes), [count, 8, 8, 1]);
  const yc = tf.add(y8, 0.5) as tf.Tensor4D;
  const params = initCaflow(m, { seed: 0, w: tf.add(w8, tf.randomUniform(w8.shape, 0, 1, 'float32', 3)) as tf.Tensor4D, y: yc });

  /** Per-pair bits/dim, -log p(w | y) / (D ln 2), computed in float64 from the model's log p. */
  const bits64 = (w: tf.Tensor4D): number[] => Array.from(logLikelihood(m, params)(w, yc).conditional.dataSync(), (c) => -c / (dims * Math.LN2));

  // Direct Monte-Carlo: K draws of u ~ U(0,1)^D from a float64 generator, averaged in float64.
  const K = 64;
  const perDraw: number[] = [];
  const perPair = new Array<number>(count).fill(0);
  for (let k = 0; k < K; k++) {
    const u = Float32Array.from({ length: count * dims }, () => random());
    const wu = tf.tidy(() => tf.add(w8, tf.tensor4d(u, w8.shape)) as tf.Tensor4D);
    const b = bits64(wu);
    perDraw.push(b.reduce((s, x) => s + x, 0) / count);
    b.forEach((x, i) => (perPair[i] = (perPair[i] as number) + x / K));
    wu.dispose();
  }
  const direct = stats64(perDraw);
  const midBin64 = bits64(tf.add(w8, 0.5) as tf.Tensor4D).reduce((s, x) => s + x, 0) / count;

  const draws = 32;
  const est = heldOutNll(m, params, data, { draws, seed: 1, batchSize: 5 });

  it('the mean over draws matches the float64 Monte-Carlo within 4 combined standard errors', () => {
    console.log(
      `uniform noise: ${est.bitsPerDim.toFixed(5)} ± ${est.standardError.toExponential(2)} (${draws} draws), pairs SE ${est.pairStandardError.toExponential(2)}; ` +
        `direct float64 MC ${direct.mean.toFixed(5)} ± ${direct.standardError.toExponential(2)} (${K} draws); mid-bin ${est.midBin.toFixed(5)}`,
    );
    expect(est.draws).toBe(draws);
    const tolerance = 4 * Math.hypot(est.standardError, direct.standardError);
    expect(Math.abs(est.bitsPerDim - direct.mean)).toBeLessThan(tolerance);
    // The test can tell mid-bin from uniform noise: they differ by more than 5 times the tolerance.
    expect(Math.abs(midBin64 - direct.mean)).toBeGreaterThan(5 * tolerance);
  });

  it('reports the noise standard error of its own draws (sqrt(K/draws) times the direct one, within sampling error)', () => {
    expect(est.standardError).toBeGreaterThan(0);
    const ratio = est.standardError / (direct.standardError * Math.sqrt(K / draws));
    // The std of 32 draws estimates the true std within about +-25% (2 SE of a sample std).
    expect(ratio).toBeGreaterThan(0.6);
    expect(ratio).toBeLessThan(1.6);
  });

  it('reports the standard error over pairs, as the std of per-pair noise averages / sqrt(pairs)', () => {
    const expected = stats64(perPair).standardError;
    // Per-pair values differ by far more than their noise (32 vs 64 draws): within 5%.
    expect(Math.abs(est.pairStandardError / expected - 1)).toBeLessThan(0.05);
  });

  it('reports mid-bin (u = 0.5) beside it, equal to the float64 mean of the model\'s values at W + 0.5', () => {
    expect(Math.abs(est.midBin - midBin64)).toBeLessThan(1e-6 * Math.abs(midBin64));
  });

  it('evaluate reports this estimate as its bitsPerDim (the headline), with the mid-bin figure beside it', () => {
    const e = evaluate(m, params, data, { conditions: 2, samples: 2, temperature: 0.5, seed: 1, nllDraws: draws, batchSize: 5 });
    expect(e.nll).toEqual(est);
    expect(e.bitsPerDim).toBe(est.bitsPerDim);
    expect(e.bitsPerDim).not.toBe(e.nll.midBin);
  });

  it('is reproducible for a seed, moves with the seed, and leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    const again = heldOutNll(m, params, data, { draws: 2, seed: 1, batchSize: 5 });
    expect(tf.memory().numTensors).toBe(before);
    const same = heldOutNll(m, params, data, { draws: 2, seed: 1, batchSize: 5 });
    const other = heldOutNll(m, params, data, { draws: 2, seed: 2, batchSize: 5 });
    expect(same).toEqual(again);
    expect(other.bitsPerDim).not.toBe(again.bitsPerDim);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('samples the scored conditions in batches: batch b is sampleRanked of its conditions with seed + b', () => {
    const o = { samples: 3, temperature: 0.7, seed: 5 };
    const { y } = pairsAt(data, [0, 1, 2, 3, 4]);
    const before = tf.memory().numTensors;
    const whole = sampleRankedInBatches(m, params, y, { ...o, conditions: 5 });
    const batched = sampleRankedInBatches(m, params, y, { ...o, conditions: 5, conditionsPerBatch: 2 });
    expect(batched.shape).toEqual([15, 8, 8, 1]);
    const expected = [0, 1, 2].map((b) =>
      tf.tidy(() => sampleRanked(m, params, tf.slice(y, [2 * b, 0, 0, 0], [Math.min(2, 5 - 2 * b), -1, -1, -1]), { ...o, seed: o.seed + b })),
    );
    expect(Array.from(batched.dataSync())).toEqual(tf.tidy(() => Array.from(tf.concat(expected).dataSync())));
    // One batch of all conditions is the unbatched call (batch 0 keeps the seed), and batching changes the draws.
    const single = sampleRanked(m, params, y, o);
    expect(Array.from(whole.dataSync())).toEqual(Array.from(single.dataSync()));
    expect(Array.from(batched.dataSync())).not.toEqual(Array.from(whole.dataSync()));
    tf.dispose([whole, batched, single, ...expected]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(y);
  });
});

describe('run configs', () => {
  const base = presets['mnist-sr'] as RunConfig;
  it('may set eval.nllDraws (a positive integer), which reaches evaluate with the rest of eval', () => {
    const ok = decodeRunConfig({ ...base, eval: { ...base.eval, nllDraws: 16 } });
    expect(E.isRight(ok) && ok.right.eval.nllDraws).toBe(16);
    const without = decodeRunConfig(base);
    expect(E.isRight(without) && without.right.eval.nllDraws).toBeUndefined();
    const bad = decodeRunConfig({ ...base, eval: { ...base.eval, nllDraws: 0 } });
    expect(E.isLeft(bad) && bad.left.join('; ')).toContain('nllDraws');
  });
});
