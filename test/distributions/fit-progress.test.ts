/**
 * fit's progress reports carry the parameters of their step (what the density studio draws while it
 * trains): without a validation part fit returns the last parameters, so the report at the last step
 * must hold exactly those; and a report's parameters differ from the step before's (they are the live
 * ones, not the initial ones).
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { affineCoupling, distributions, disposeParams, flattenParams, mlp, type ParamTree } from '../../src/index.js';

const values = (p: ParamTree): number[][] => flattenParams(p).map(([, t]) => Array.from(t.dataSync()));

describe('fit progress', () => {
  it('reports the parameters of its step', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2, max: 6 }), (seed, evalEvery) => {
        const dist = distributions.transformed(distributions.standardNormal([2]), affineCoupling([2], { net: mlp({ hidden: [8] }) }));
        const data = tf.randomNormal([64, 2], 0, 1, 'float32', seed) as tf.Tensor2D;
        const seen: Array<{ step: number; values: number[][] }> = [];
        const before = tf.memory().numTensors;
        const r = distributions.fit(dist, data, { steps: 2 * evalEvery, evalEvery, seed, validationFraction: 0, batchSize: 32, onProgress: (p) => seen.push({ step: p.step, values: values(p.params) }) });
        expect(seen.map((s) => s.step)).toEqual([evalEvery, 2 * evalEvery]);
        expect(seen[1]!.values).toEqual(values(r.params));
        expect(seen[0]!.values).not.toEqual(seen[1]!.values);
        disposeParams(r.params);
        expect(tf.memory().numTensors).toBe(before);
        data.dispose();
      }),
      { numRuns: 5 },
    );
  });
});
