/**
 * Flow matching (issue 22): the loss at a zero field against its closed form, minibatch-OT pairing
 * lowering the paired distances, refusals of distributions it cannot train, and a fit by flow matching
 * whose exact held-out NLL approaches a Gaussian's closed-form entropy.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { chain, cnf, affine, scaleShift } from '../../src/dsl/index.js';
import { fit, standardNormal, transformed } from '../../src/distributions/index.js';
import { flowMatchingLoss } from '../../src/distributions/flow-matching.js';
import { initDistribution, seedStream } from '../../src/distributions/interpret.js';
import { disposeParams } from '../../src/interpreters/index.js';

describe('the flow-matching loss', () => {
  // Zero field: the loss is E (z - x0)^2 per coordinate = Var z + Var x0 = 2 for standard normal data.
  // Sampling error of the mean of 8192 squares of N(0, 2) values: sqrt(8) / sqrt(8192) = 0.031, so 0.15 is ~5 sigma.
  it('is E|z - x0|^2 / D = 2 at a zero field on standard normal data, and lower with OT pairing', () => {
    const dist = transformed(standardNormal([2]), cnf([2], { hidden: [8] }));
    const params = initDistribution(dist, { seed: 0 });
    const x = tf.randomNormal([4096, 2], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const independent = tf.tidy(() => flowMatchingLoss(dist, params, [x], {}, seedStream(1)).dataSync()[0] as number);
    const paired = tf.tidy(() => flowMatchingLoss(dist, params, [x.slice(0, 256)], {}, seedStream(1), 'ot').dataSync()[0] as number);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(independent - 2)).toBeLessThan(0.15);
    // OT pairing of 256 points in 2-D: the matched squared distances are far below the independent 2.
    expect(paired).toBeLessThan(1);
    x.dispose();
    disposeParams(params);
  });

  it('refuses a distribution without a cnf at the end, or with trainable layers before it', () => {
    const x = tf.zeros([4, 2]) as tf.Tensor2D;
    const noCnf = transformed(standardNormal([2]), affine([2]));
    expect(() => fit(noCnf, x, { objective: 'flow-matching', steps: 1 })).toThrow(/chain's last step|its flow is a 'affine'/);
    const trainableBefore = transformed(standardNormal([2]), chain(affine([2]), cnf([2], { hidden: [4] })));
    expect(() => fit(trainableBefore, x, { objective: 'flow-matching', steps: 1 })).toThrow(/trainable parameters \(0\.logScale/);
    x.dispose();
  });
});

describe('fit by flow matching', () => {
  it("reaches a correlated Gaussian's entropy in exact held-out NLL", () => {
    // x = A e, e ~ N(0, I): entropy 0.5 log det(2 pi e A A^T) = log(2 pi e) + log|det A|.
    const a = [
      [1.5, 0],
      [0.9, 0.4],
    ];
    const entropy = Math.log(2 * Math.PI * Math.E) + Math.log(Math.abs(1.5 * 0.4));
    const e = tf.randomNormal([2048, 2], 0, 1, 'float32', 11) as tf.Tensor2D;
    const x = tf.matMul(e, tf.tensor2d(a), false, true) as tf.Tensor2D;
    const dist = transformed(standardNormal([2]), chain(scaleShift([2], { scale: 1 / 1.5, shift: 0 }), cnf([2], { hidden: [32, 32], solver: { kind: 'rk4', steps: 8 } })));
    const r = fit(dist, x, { objective: 'flow-matching', steps: 200, lr: 5e-3, batchSize: 256, evalEvery: 50, seed: 0, validationFraction: 0.25 });
    // The NLL of the data under the untrained flow (a standard normal after scaling): far above the entropy.
    expect(r.validationNll).toBeDefined();
    console.log(`flow matching: validation NLL ${r.validationNll} at step ${r.bestStep}, entropy ${entropy}`);
    // 512 validation rows: the NLL's standard error is ~0.04; 0.12 allows that and a short training's gap.
    expect(Math.abs((r.validationNll as number) - entropy)).toBeLessThan(0.12);
    disposeParams(r.params);
    tf.dispose([e, x]);
  });
});
