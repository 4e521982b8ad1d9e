/**
 * Presets and baselines: the documented sizes, flows whose signatures fit [D] (conditional when asked),
 * and the Gaussian baseline equal to the sample Gaussian's closed-form density.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { disposeBaselines, fitMixtureBaselines, flowPresets, logProb, presetFlow, presetSettings, splineBound, tailShare } from '../../src/distributions/index.js';
import { cnfPresetHidden, CONDITIONAL_PARAMETERS_PER_ROW, presetFlowOfWidth, presetRegularisation, presetWidth } from '../../src/distributions/presets.js';
import { parameterCount } from '../../src/interpreters/summary.js';
import { signature } from '../../src/dsl/signature.js';
import { seededRandom } from '../../src/dsl/random.js';

describe('presets', () => {
  it('sizes follow the table of src/distributions/presets.ts', () => {
    expect(presetSettings(2, 2000)).toEqual({ layers: 5, hidden: [64, 64], bins: 8, bound: 5 });
    expect(presetSettings(2, 500)).toEqual({ layers: 5, hidden: [32, 32], bins: 8, bound: 5 });
    expect(presetSettings(6, 5000)).toEqual({ layers: 6, hidden: [192, 192], bins: 8, bound: 5 });
    expect(presetSettings(20, 5000).layers).toBe(8);
    expect(presetSettings(20, 5000).hidden).toEqual([256, 256]);
    expect(presetSettings(1, 10).hidden).toEqual([16, 16]);
  });

  it('every preset flow maps [D] to [D] for D = 1, 2, 5, and takes the context when asked', () => {
    for (const name of flowPresets) {
      for (const d of [1, 2, 5]) {
        const sig = signature(presetFlow(name, d, 2000));
        expect([sig.ins, sig.outs, sig.cond]).toEqual([[[d]], [[d]], {}]);
        expect(signature(presetFlow(name, d, 2000, { context: [3] })).cond).toEqual({ context: [3] });
      }
    }
  });

  // A conditional preset is narrowed to at most 10 trainable parameters per training row, by the
  // widest multiple-of-8 step from its unconditional width that fits (16 at least); an unconditional
  // one keeps the table's width.
  it('a conditional preset has at most 10 parameters per training row, and is as wide as that allows', () => {
    fc.assert(
      fc.property(fc.constantFrom(...flowPresets), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 50, max: 50_000 }), fc.integer({ min: 1, max: 12 }), (name, d, rows, c) => {
        const cond = { context: [c] };
        const width = presetWidth(name, d, rows, cond);
        const unconditional = presetWidth(name, d, rows);
        expect(unconditional).toBe(name === 'cnf' ? cnfPresetHidden(d, rows)[0] : presetSettings(d, rows).hidden[0]);
        const count = parameterCount(presetFlow(name, d, rows, cond));
        if (width > 16) expect(count).toBeLessThanOrEqual(CONDITIONAL_PARAMETERS_PER_ROW * rows);
        // Not narrower than needed: 8 units wider (up to the unconditional width) would break the budget.
        if (width < unconditional) {
          const wider = Math.min(unconditional, width + 8);
          expect(parameterCount(presetFlowOfWidth(name, d, rows, cond, wider))).toBeGreaterThan(CONDITIONAL_PARAMETERS_PER_ROW * rows);
        }
      }),
      { numRuns: 40 },
    );
    // sbibm's Gaussian linear task (D = 10, C = 10, 8,000 training rows): 48 units wide, not 256.
    expect(presetWidth('nsf', 10, 8000, { context: [10] })).toBe(48);
  });
});

describe('spline tails', () => {
  it('splineBound finds the smallest bound of coupling and autoregressive splines; tailShare counts rows with any coordinate beyond it', () => {
    expect(splineBound(presetFlow('nsf', 2, 2000))).toBe(5);
    expect(splineBound(presetFlow('nsf', 1, 2000))).toBe(5); // D = 1: an autoregressive spline
    expect(splineBound(presetFlow('maf', 2, 2000))).toBeUndefined();
    // Rows (0, 0), (6, 0), (0, -5.5), (5, 5): two beyond 5 (5 itself is inside).
    expect(tailShare([0, 0, 6, 0, 0, -5.5, 5, 5], 2, 5)).toBe(0.5);
  });
});

describe('fitMixtureBaselines', () => {
  it('k = 1 is the sample Gaussian: its log p is the closed form with the training rows mean and covariance', () => {
    const r = seededRandom(2);
    const g = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const rows = Array.from({ length: 400 }, () => {
      const a = g();
      return [5 + 3 * a, -1 + a + 0.5 * g()];
    });
    const train = tf.tensor2d(rows.slice(0, 300));
    const validation = tf.tensor2d(rows.slice(300));
    const before = tf.memory().numTensors;
    const b = fitMixtureBaselines(train, validation, { kMax: 3 });
    expect(b.validationNll.length).toBe(3);
    const n = 300;
    const m = [0, 1].map((j) => rows.slice(0, n).reduce((s, x) => s + (x[j] as number), 0) / n);
    const c = (i: number, j: number): number => rows.slice(0, n).reduce((s, x) => s + ((x[i] as number) - (m[i] as number)) * ((x[j] as number) - (m[j] as number)), 0) / n;
    const [s00, s01, s11] = [c(0, 0), c(0, 1), c(1, 1)];
    const det = s00 * s11 - s01 * s01;
    const closed = (x: number[]): number => {
      const [u, v] = [(x[0] as number) - (m[0] as number), (x[1] as number) - (m[1] as number)];
      return -Math.log(2 * Math.PI) - 0.5 * Math.log(det) - (0.5 * (s11 * u * u - 2 * s01 * u * v + s00 * v * v)) / det;
    };
    const lp = logProb(b.gaussian.dist, b.gaussian.params)(validation as never);
    // float32 standardisation and EM on standardised rows (reg 1e-6 there): 1e-3 absolute.
    Array.from(lp.dataSync()).forEach((v, i) => expect(Math.abs(v - closed(rows[300 + i] as number[]))).toBeLessThan(1e-3));
    // The best k's validation NLL is the smallest one tried.
    expect(b.validationNll[b.best.k - 1]).toBe(Math.min(...b.validationNll));
    lp.dispose();
    disposeBaselines(b);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([train, validation]);
  });
});

describe('presetRegularisation', () => {
  it('is 0.05 standard deviations of noise at 2,000 rows, shrinking with more rows at the rate rows^(-1/(4+d)), with averaging 0.995', () => {
    expect(presetRegularisation(2, 2000)).toEqual({ noise: 0.05, averaging: 0.995 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 2, max: 1_000_000 }), fc.integer({ min: 1, max: 1_000_000 }), (d, rows, more) => {
        const a = presetRegularisation(d, rows).noise;
        const b = presetRegularisation(d, rows + more).noise;
        expect(b).toBeLessThan(a);
        // Closed form of the rate: the ratio of two settings is (rows / (rows + more))^(1/(4+d)).
        expect(b / a).toBeCloseTo((rows / (rows + more)) ** (1 / (4 + d)), 12);
      }),
    );
  });
});
