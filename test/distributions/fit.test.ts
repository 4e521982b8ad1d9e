/**
 * Fitting: maximum likelihood recovers a known Gaussian, early stopping and NaN skipping work, the
 * reverse KL recovers a Gaussian target, and no tensor leaks across steps.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { actnorm, affine, affineCoupling, chain, conditionalAffine, convNet, inv1x1LU } from '../../src/dsl/index.js';
import { disposeParams, type ParamTree } from '../../src/dsl/params.js';
import fc from 'fast-check';
import { cosineLearningRate } from '../../src/training/schedule.js';
import { updateAverage } from '../../src/training/average.js';
import { elementScales, withNoise } from '../../src/distributions/training-noise.js';
import { defaultValidationRows, diagonalNormal, fit, fitVariational, logProb, meanNll, sample, standardNormal, transformed } from '../../src/distributions/index.js';

const MU = [1.5, -2];
const SIGMA = [0.5, 2];

/** Rows from N(MU, diag SIGMA^2), seeded. */
const gaussianRows = (n: number, seed: number): tf.Tensor2D =>
  tf.tidy(() => tf.add(tf.mul(tf.randomNormal([n, 2], 0, 1, 'float32', seed), SIGMA), MU) as tf.Tensor2D);

/** The Gaussian an affine flow on N(0, I) implies: x = (z - shift) e^-logScale. */
const impliedGaussian = (params: ParamTree): { mean: number[]; std: number[] } => {
  const { logScale, shift } = (params as { flow: { logScale: tf.Tensor; shift: tf.Tensor } }).flow;
  const s = Array.from(logScale.dataSync());
  const b = Array.from(shift.dataSync());
  return { mean: s.map((si, i) => -(b[i] as number) * Math.exp(-si)), std: s.map((si) => Math.exp(-si)) };
};

describe('fit', () => {
  it('an affine([2]) flow on 2,000 points of N(mu, diag sigma^2) recovers mu and sigma', () => {
    const data = gaussianRows(2000, 11);
    const dist = transformed(standardNormal([2]), affine([2]));
    const progress: number[] = [];
    const r = fit(dist, data, { steps: 600, batchSize: 256, lr: 0.05, seed: 0, onProgress: (p) => progress.push(p.step) });
    const { mean, std } = impliedGaussian(r.params);
    // The MLE's standard error on 1,800 training rows is sigma/sqrt(1800) ~ 0.024 sigma for the mean
    // and ~ 0.017 sigma for the std; the bounds allow 0.06 sigma (mean) and 5% (std).
    mean.forEach((m, i) => expect(Math.abs(m - (MU[i] as number))).toBeLessThan(0.06 * (SIGMA[i] as number)));
    std.forEach((s, i) => expect(Math.abs(s / (SIGMA[i] as number) - 1)).toBeLessThan(0.05));
    // The exact NLL of the truth: sum_i log sigma_i + log(2 pi) + 1 (the expected squared z is 1 per dim).
    const truthNll = Math.log(0.5) + Math.log(2) + Math.log(2 * Math.PI) + 1;
    expect(Math.abs(r.trainNll - truthNll)).toBeLessThan(0.1);
    expect(Math.abs((r.validationNll as number) - truthNll)).toBeLessThan(0.15);
    expect(r.trainRows + r.validationRows).toBe(2000);
    expect(r.validationRows).toBe(400); // defaultValidationRows: 20%
    expect(progress[0]).toBe(0);
    expect(r.history.validation.length).toBe(progress.length);
    console.log(`fit affine([2]): mean ${mean.map((m) => m.toFixed(3))} (truth ${MU}), std ${std.map((s) => s.toFixed(3))} (truth ${SIGMA}), train NLL ${r.trainNll.toFixed(4)}, val NLL ${r.validationNll?.toFixed(4)}, truth ${truthNll.toFixed(4)}, best step ${r.bestStep}/${r.steps}`);
    disposeParams(r.params);
    data.dispose();
  });

  it('stops early when the validation NLL stops improving, returning the best parameters', () => {
    const data = gaussianRows(400, 3);
    const dist = transformed(diagonalNormal([2]), actnorm([2]));
    // Data-dependent init already fits this model: nothing improves, so it stops after `patience` evaluations.
    const r = fit(dist, data, { steps: 1000, lr: 0.01, evalEvery: 10, patience: 3, seed: 1 });
    expect(r.stoppedEarly).toBe(true);
    expect(r.steps).toBeLessThan(1000);
    const best = Math.min(...r.history.validation.map((v) => v.nll));
    expect(r.validationNll).toBe(best);
    expect(r.history.validation.find((v) => v.step === r.bestStep)?.nll).toBe(best);
    disposeParams(r.params);
    data.dispose();
  });

  it('skips non-finite steps and keeps going; the tensor count is flat across steps', () => {
    const good = gaussianRows(300, 5);
    // A row of NaN: every minibatch holding it has a NaN loss and is skipped.
    const data = tf.concat([good, tf.tensor2d([[Number.NaN, 0]])]) as tf.Tensor2D;
    const dist = transformed(standardNormal([2]), chain(affine([2]), actnorm([2])));
    const init = fit(dist, good, { steps: 1, validationFraction: 0 });
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const r = fit(dist, data, { steps: 40, batchSize: 16, lr: 0.01, evalEvery: 5, validationFraction: 0, params: init.params, onProgress: () => counts.push(tf.memory().numTensors) });
    expect(r.skipped).toBeGreaterThan(0);
    expect(r.history.train.filter((t) => t.skipped).length).toBe(r.skipped);
    expect(new Set(counts).size).toBe(1);
    disposeParams(r.params);
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(init.params);
    tf.dispose([good, data]);
  });
});

describe("fit's split, schedule and returned parameters", () => {
  it('train and validation rows are disjoint, cover every row, and training never reads a validation row', () => {
    const n = 300;
    const clean = gaussianRows(n, 8);
    const dist = transformed(standardNormal([2]), affine([2]));
    const first = fit(dist, clean, { steps: 20, batchSize: 32, evalEvery: 10, lr: 0.01, seed: 4 });
    const { train, validation } = first.split;
    expect(validation.length).toBe(defaultValidationRows(n));
    expect([...train, ...validation].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    // Poison exactly the validation rows: a run with the same seed splits the same way, so if any
    // training step read one of them its loss would be NaN and the step skipped.
    const values = clean.arraySync();
    for (const i of validation) values[i] = [Number.NaN, Number.NaN];
    const poisoned = tf.tensor2d(values);
    const second = fit(dist, poisoned, { steps: 20, batchSize: 32, evalEvery: 10, lr: 0.01, seed: 4 });
    expect(Array.from(second.split.validation)).toEqual(Array.from(validation));
    expect(second.skipped).toBe(0);
    expect(Number.isFinite(second.trainNll)).toBe(true);
    expect(second.history.validation.every((v) => Number.isNaN(v.nll))).toBe(true);
    disposeParams(first.params);
    disposeParams(second.params);
    tf.dispose([clean, poisoned]);
  });

  it('the returned parameters are the ones that scored the reported validation NLL (recomputed on the validation rows)', () => {
    const data = gaussianRows(500, 12);
    const dist = transformed(standardNormal([2]), affine([2]));
    // From the identity (no data-dependent init) at a high constant rate on small batches: the
    // validation curve falls, then jitters, so the best step is neither the first nor the last, and
    // returning the initial or the last parameters would show.
    const r = fit(dist, data, { steps: 200, batchSize: 8, evalEvery: 5, lr: 0.1, schedule: 'constant', patience: 1000, seed: 6 });
    expect(r.bestStep).toBeGreaterThan(0);
    expect(r.bestStep).toBeLessThan(r.steps);
    const rows = tf.gather(data, tf.tensor1d(r.split.validation, 'int32'));
    const recomputed = meanNll(dist, r.params, [rows]);
    // Same rows, same params, same chunking: the same float32 sums, so equal to float rounding.
    expect(Math.abs(recomputed - (r.validationNll as number))).toBeLessThan(1e-6 * (1 + Math.abs(recomputed)));
    expect(r.history.validation.find((v) => v.step === r.bestStep)?.nll).toBe(r.validationNll);
    expect(r.validationNll).toBe(Math.min(...r.history.validation.map((v) => v.nll)));
    console.log(`best step ${r.bestStep} of ${r.steps}; validation NLL ${r.validationNll} recomputed ${recomputed}`);
    tf.dispose([rows, data]);
    disposeParams(r.params);
  });

  it('with averaging, the returned parameters are the running average that scored the reported validation NLL, not the last iterate', () => {
    const data = gaussianRows(500, 12);
    const dist = transformed(standardNormal([2]), affine([2]));
    const settings = { steps: 120, batchSize: 8, evalEvery: 5, lr: 0.1, schedule: 'constant', patience: 1000, seed: 6 } as const;
    const plain = fit(dist, data, settings);
    const before = tf.memory().numTensors;
    const averaged = fit(dist, data, { ...settings, averaging: 0.9 });
    // No leak: the only new tensors are the returned parameters (the average's copies are disposed).
    expect(tf.memory().numTensors).toBe(before + 2);
    const rows = tf.gather(data, tf.tensor1d(averaged.split.validation, 'int32'));
    const recomputed = meanNll(dist, averaged.params, [rows]);
    // Same rows and chunking as fit's own evaluation: equal to float rounding.
    expect(Math.abs(recomputed - (averaged.validationNll as number))).toBeLessThan(1e-6 * (1 + Math.abs(recomputed)));
    // At lr 0.1 on batches of 8 the iterate jitters; its average does not: the averaged validation curve
    // moves less from one evaluation to the next after the warm-up (both runs see the same batches).
    const jitter = (r: typeof plain): number => {
      const v = r.history.validation.slice(4).map((e) => e.nll);
      return v.slice(1).reduce((acc, x, i) => acc + Math.abs(x - (v[i] as number)), 0) / (v.length - 1);
    };
    expect(jitter(averaged)).toBeLessThan(0.5 * jitter(plain));
    console.log(`evaluation-to-evaluation change of the validation NLL: last iterate ${jitter(plain).toFixed(4)}, average ${jitter(averaged).toFixed(4)}`);
    expect(() => fit(dist, data, { ...settings, averaging: 1 })).toThrow(/averaging must be in \[0, 1\)/);
    tf.dispose([rows, data]);
    disposeParams(plain.params);
    disposeParams(averaged.params);
  });

  it('with noise, training minibatches get noise of the stated size per element, validation rows none, and nothing leaks', () => {
    const data = gaussianRows(2000, 13);
    // The noise itself: zero mean and amount x each column's standard deviation (SIGMA), checked on
    // 2,000 rows x 20 draws: the sample std of 40,000 normals is within 2% of its value (> 5 sigma).
    const scales = elementScales([data]);
    expect(Array.from((scales[0] as tf.Tensor).dataSync()).map((v, i) => v / (SIGMA[i] as number))).toEqual([expect.closeTo(1, 1), expect.closeTo(1, 1)]);
    const draws = Array.from({ length: 20 }, (_, k) => tf.tidy(() => tf.sub(withNoise([data], scales, 0.3, 100 + k)[0] as tf.Tensor, data)));
    const all = tf.concat(draws, 0);
    const { mean, variance } = tf.moments(all, 0);
    const std = Array.from(tf.sqrt(variance).dataSync());
    std.forEach((sd, i) => expect(Math.abs(sd / (0.3 * (scales[0] as tf.Tensor).dataSync()[i]!) - 1)).toBeLessThan(0.02));
    Array.from(mean.dataSync()).forEach((m, i) => expect(Math.abs(m)).toBeLessThan(5 * (0.3 * SIGMA[i]!) / Math.sqrt(40000)));
    tf.dispose([...draws, all, mean, variance, ...scales]);

    const dist = transformed(standardNormal([2]), affine([2]));
    const before = tf.memory().numTensors;
    const r = fit(dist, data, { steps: 600, batchSize: 256, lr: 0.05, seed: 2, noise: 0.5 });
    expect(tf.memory().numTensors).toBe(before + 2);
    // Validation is scored on the clean rows: recomputing it on them gives the reported number.
    const rows = tf.gather(data, tf.tensor1d(r.split.validation, 'int32'));
    const recomputed = meanNll(dist, r.params, [rows]);
    expect(Math.abs(recomputed - (r.validationNll as number))).toBeLessThan(1e-6 * (1 + Math.abs(recomputed)));
    // And training saw the noise: the fitted std is sigma sqrt(1 + 0.5^2) = 1.118 sigma, not sigma
    // (the MLE of a Gaussian on the noised rows; 5% tolerance as in the first test).
    impliedGaussian(r.params).std.forEach((sd, i) => expect(Math.abs(sd / (SIGMA[i]! * Math.sqrt(1.25)) - 1)).toBeLessThan(0.05));
    expect(() => fit(dist, data, { steps: 1, noise: -1 })).toThrow(/noise must be a finite number >= 0/);
    tf.dispose([rows, data]);
    disposeParams(r.params);
  });

  it('updateAverage is the recurrence avg <- d avg + (1 - d) p with the ramped decay, and copies frozen parameters (generated sequences)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.999, noNaN: true }), fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 30 }), (decay, values) => {
        let avg: ParamTree = { w: tf.scalar(0), frozen: tf.scalar(3) };
        let expected = 0;
        values.forEach((v, i) => {
          const params: ParamTree = { w: tf.scalar(v), frozen: tf.scalar(v) };
          const next = updateAverage(avg, params, new Set(['w']), decay, i + 1);
          const d = Math.min(decay, (2 + i) / (11 + i));
          expected = d * expected + (1 - d) * v;
          disposeParams(avg);
          disposeParams(params);
          avg = next;
        });
        const { w, frozen } = avg as { w: tf.Tensor; frozen: tf.Tensor };
        // float32 recurrences of at most 30 terms of |v| <= 10: 1e-4 absolute.
        expect(Math.abs((w.dataSync()[0] as number) - expected)).toBeLessThan(1e-4);
        expect(frozen.dataSync()[0]).toBe(Math.fround(values[values.length - 1] as number));
        disposeParams(avg);
      }),
      { numRuns: 50 },
    );
  });

  it('the cosine schedule: linear warm-up to the peak, then a cosine down to base * final (closed form, generated settings)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-5, max: 1, noNaN: true }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 500 }), (base, warmup, extra) => {
        const steps = warmup + extra;
        const lr = (t: number): number => cosineLearningRate(t, { base, warmup, steps, final: 0.01 });
        if (warmup > 0) expect(lr(warmup)).toBeCloseTo(base, 12);
        if (warmup > 1) expect(lr(1)).toBeCloseTo(base / warmup, 12);
        expect(lr(steps) / base).toBeCloseTo(0.01, 10);
        // Half-way through the decay the cosine is at its mean: (1 + final) / 2.
        if (extra % 2 === 0) expect(lr(warmup + extra / 2) / base).toBeCloseTo(0.505, 10);
        for (let t = warmup + 1; t < steps; t += 1) expect(lr(t + 1)).toBeLessThanOrEqual(lr(t) + 1e-15);
      }),
      { numRuns: 50, seed: 3 },
    );
  });
});

describe('fit on images and with conditioning', () => {
  it('an image flow with a conditional layer learns x = 2c + noise: the NLL falls and the context matters', () => {
    const c = tf.randomNormal([600, 2, 2, 1], 0, 1, 'float32', 21) as tf.Tensor4D;
    const x = tf.tidy(() => tf.add(tf.mul(c, 2), tf.randomNormal([600, 2, 2, 1], 0, 0.3, 'float32', 22))) as tf.Tensor4D;
    const flow = chain(actnorm([1, 2, 2]), conditionalAffine([1, 2, 2], { cond: { c: [1, 2, 2] }, net: convNet({ hidden: 8, kernels: [1, 1, 1] }) }));
    const dist = transformed(standardNormal([1, 2, 2]), flow);
    const before = tf.memory().numTensors;
    const r = fit(dist, x, { steps: 150, batchSize: 128, lr: 0.02, evalEvery: 50, ctx: { c }, seed: 3 });
    const first = r.history.validation[0]!.nll;
    expect(r.validationNll!).toBeLessThan(first - 1);
    const shuffled = tf.reverse(c, 0) as tf.Tensor4D;
    const right = tf.tidy(() => -tf.mean(logProb(dist, r.params)(x, { c })).dataSync()[0]!);
    const wrong = tf.tidy(() => -tf.mean(logProb(dist, r.params)(x, { c: shuffled })).dataSync()[0]!);
    expect(wrong).toBeGreaterThan(right + 1);
    disposeParams(r.params);
    tf.dispose([shuffled]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([c, x]);
  });

  it("the README's example runs", () => {
    const points = gaussianRows(500, 9);
    const dist = transformed(standardNormal([2]), chain(actnorm([2]), inv1x1LU([2]), affine([2])));
    const { params, trainNll, validationNll } = fit(dist, points, { steps: 100, lr: 5e-3, seed: 0 });
    const lp = logProb(dist, params)(points);
    const { x } = sample(dist, params)(1000, { seed: 1 });
    expect(Number.isFinite(trainNll) && Number.isFinite(validationNll!)).toBe(true);
    expect([lp.shape, x.shape]).toEqual([[500], [1000, 2]]);
    tf.dispose([points, lp, x]);
    disposeParams(params);
  });
});

describe('fitVariational', () => {
  it('recovers a Gaussian target by the reverse KL', () => {
    const dist = transformed(standardNormal([2]), affine([2]));
    // Unnormalised log N(x; MU, diag SIGMA^2): the constant is left out on purpose.
    const logDensity = (x: tf.Tensor2D): tf.Tensor1D => tf.mul(tf.sum(tf.square(tf.div(tf.sub(x, MU), SIGMA)), 1), -0.5) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const r = fitVariational(dist, logDensity, { steps: 500, samples: 128, lr: (t) => (t <= 300 ? 0.05 : 0.005), seed: 2, evalEvery: 100, onProgress: () => counts.push(tf.memory().numTensors) });
    const { mean, std } = impliedGaussian(r.params);
    mean.forEach((m, i) => expect(Math.abs(m - (MU[i] as number))).toBeLessThan(0.05 * (SIGMA[i] as number)));
    std.forEach((s, i) => expect(Math.abs(s / (SIGMA[i] as number) - 1)).toBeLessThan(0.05));
    // At the optimum KL = 0, so the loss is -log Z = -log(2 pi sigma1 sigma2).
    expect(Math.abs(r.loss + Math.log(2 * Math.PI * 0.5 * 2))).toBeLessThan(0.05);
    expect(new Set(counts).size).toBe(1);
    console.log(`fitVariational affine([2]): mean ${mean.map((m) => m.toFixed(3))} (truth ${MU}), std ${std.map((s) => s.toFixed(3))} (truth ${SIGMA}), loss ${r.loss.toFixed(4)} (optimum ${(-Math.log(2 * Math.PI)).toFixed(4)})`);
    disposeParams(r.params);
    expect(tf.memory().numTensors).toBe(before);
  });
});
