/**
 * fitPlan (what `fit --engine pytorch` hands to fit.py) describes fit's own run: the same split as
 * fit's result, minibatches that are consecutive slices of epoch permutations of the training rows
 * (each epoch's batches disjoint, every row index in range), fit's learning rates, and fit's initial
 * parameters: with them fit's first minibatch loss equals the plan's minibatch NLL in closed
 * agreement (the same tensors, so up to float32 summation order: 1e-5 relative). No tensors leak.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actnorm, affine, chain } from '../../src/dsl/index.js';
import { fit, fitPlan, gatherRows, meanNll } from '../../src/distributions/fit.js';
import { standardNormal, transformed } from '../../src/distributions/index.js';
import { disposeParams } from '../../src/dsl/params.js';

const dist = transformed(standardNormal([2]), chain(affine([2]), actnorm([2])));

describe('fitPlan', () => {
  it("is fit's run: split, epochs of minibatches, rates and the first step's loss", () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 120 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 999 }), (n, batch, steps, seed) => {
        const before = tf.memory().numTensors;
        const data = tf.randomNormal([n, 2], 0, 1, 'float32', seed) as tf.Tensor2D;
        const options = { steps, batchSize: batch, seed, lr: 1e-2, evalEvery: 5 };
        const plan = fitPlan(dist, data, options);
        const r = fit(dist, data, options);
        try {
          expect([...plan.split.train]).toEqual([...r.split.train]);
          expect([...plan.split.validation]).toEqual([...r.split.validation]);
          const nTrain = plan.split.train.length;
          const b = plan.batchSize;
          expect(b).toBe(Math.min(batch, nTrain));
          const perEpoch = Math.floor(nTrain / b);
          for (let e = 0; e * perEpoch < steps; e++) {
            const rows = plan.batches.subarray(e * perEpoch * b, Math.min(steps, (e + 1) * perEpoch) * b);
            expect(new Set(rows).size).toBe(rows.length);
            for (const i of rows) expect(i >= 0 && i < nTrain).toBe(true);
          }
          const first = gatherRows([plan.trainX], plan.batches.subarray(0, b));
          const nll = meanNll(dist, plan.params, first);
          first.forEach((t) => t.dispose());
          expect(Math.abs(nll - (r.history.train[0]?.loss ?? NaN))).toBeLessThan(1e-5 * Math.max(1, Math.abs(nll)));
          expect(plan.lrs.length).toBe(steps);
          expect(plan.lrs[steps - 1]).toBeCloseTo(1e-4, 10); // the cosine ends at lr / 100
        } finally {
          disposeParams(plan.params);
          plan.trainX.dispose();
          plan.valX?.dispose();
          disposeParams(r.params);
          data.dispose();
        }
        expect(tf.memory().numTensors).toBe(before);
      }),
      { numRuns: 15 },
    );
  });
});
