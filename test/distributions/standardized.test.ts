/**
 * `standardized(dist)`: x = location + scale * z, location and scale frozen parameters set from the
 * data at init. Checked against the closed form of a Gaussian with the data's own mean and std, for
 * generated data; its parameters are never trained; it survives the JSON codec and the model file.
 */
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeDistributionModel,
  distributionParamInfo,
  encodeDistribution,
  encodeDistributionModel,
  fit,
  initDistribution,
  logProb,
  parseDistribution,
  sampleAndLogProb,
  standardNormal,
  standardized,
  transformed,
} from '../../src/distributions/index.js';
import { affine } from '../../src/dsl/index.js';
import { disposeParams, type ParamTree } from '../../src/dsl/params.js';

afterEach(() => expect(tf.memory().numTensors).toBe(0));

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Column means and (biased) stds of rows, in float64. */
const moments = (rows: number[][]): { mean: number[]; std: number[] } => {
  const d = rows[0]?.length ?? 0;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((a, r) => a + (r[j] as number), 0) / rows.length);
  const std = mean.map((m, j) => Math.sqrt(rows.reduce((a, r) => a + ((r[j] as number) - m) ** 2, 0) / rows.length));
  return { mean, std };
};

describe('standardized', () => {
  it('log p of standardized(N(0, I)) initialised on data is the Gaussian with the data mean and std (generated data)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((d) =>
          fc.tuple(
            fc.array(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: d, maxLength: d }), { minLength: 8, maxLength: 40 }),
            fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: d, maxLength: d }),
            fc.array(fc.double({ min: -6, max: 4, noNaN: true }), { minLength: d, maxLength: d }),
          ),
        ),
        ([unit, shift, logScale]) => {
          // Columns of very different location and scale (1e-6 .. 1e4 wide, shifted by up to 50).
          const rows = unit.map((r) => r.map((v, j) => v * Math.exp(2.3 * (logScale[j] as number)) + (shift[j] as number)));
          const { mean, std } = moments(rows);
          fc.pre(std.every((s) => s > 1e-5 * (1 + Math.abs(mean[std.indexOf(s)] as number))));
          const d = rows[0]?.length as number;
          const dist = standardized(standardNormal([d]));
          const x = tf.tensor2d(rows);
          const params = initDistribution(dist, { data: x });
          const lp = logProb(dist, params)(x);
          const got = Array.from(lp.dataSync());
          const want = rows.map((r) => -r.reduce((a, v, j) => a + 0.5 * ((v - (mean[j] as number)) / (std[j] as number)) ** 2 + Math.log(std[j] as number) + HALF_LOG_2PI, 0));
          // float32 moments of values spread over [mean - std, mean + std] lose about 1e-6 relative
          // per column; each term of log p is O(1) plus log std, so 1e-3 * (1 + |log p|) is loose for
          // float32 yet far below the error of a missing log-det (|log std|, up to 9) or a wrong sign.
          got.forEach((g, i) => expect(Math.abs(g - (want[i] as number))).toBeLessThan(1e-3 * (1 + Math.abs(want[i] as number))));
          tf.dispose([x, lp]);
          disposeParams(params);
        },
      ),
      { numRuns: 25, seed: 7 },
    );
  });

  it('sampling and log p agree: the log p of the draws equals logProb of them', () => {
    const dist = standardized(transformed(standardNormal([3]), affine([3])));
    const data = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([200, 3], 0, 1, 'float32', 3), [100, 0.01, 5]), [1000, -2, 0]) as tf.Tensor2D);
    const params = initDistribution(dist, { data });
    const { x, logProb: lpDraw } = sampleAndLogProb(dist, params)(50, { seed: 4 });
    const lp = logProb(dist, params)(x);
    const a = lpDraw.dataSync();
    const b = lp.dataSync();
    // Two float32 passes in opposite directions through the same affine maps: 1e-3 relative.
    a.forEach((v, i) => expect(Math.abs(v - (b[i] as number))).toBeLessThan(1e-3 * (1 + Math.abs(v))));
    tf.dispose([data, x, lpDraw, lp]);
    disposeParams(params);
  });

  it('location and scale are frozen: fit trains the flow and leaves them at the data moments', () => {
    const dist = standardized(transformed(standardNormal([2]), affine([2])));
    expect(distributionParamInfo(dist).filter((p) => !p.trainable).map((p) => p.path)).toEqual(['events.0.location', 'events.0.scale']);
    const data = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([300, 2], 0, 1, 'float32', 5), [20, 0.5]), [-7, 3]) as tf.Tensor2D);
    const r = fit(dist, data, { steps: 30, lr: 0.05, validationFraction: 0, seed: 1 });
    const init = initDistribution(dist, { data });
    const ev = (p: ParamTree, name: 'location' | 'scale'): Float32Array => ((p as { events: Array<Record<string, tf.Tensor>> }).events[0]?.[name] as tf.Tensor).dataSync() as Float32Array;
    // fit initialises on its training rows (all rows here, in its shuffled order): equal up to float32 summation order.
    for (const name of ['location', 'scale'] as const) ev(r.params, name).forEach((v, i) => expect(Math.abs(v - (ev(init, name)[i] as number))).toBeLessThan(1e-4 * (1 + Math.abs(v))));
    const flow = (p: ParamTree): Float32Array => ((p as { base: { flow: { shift: tf.Tensor } } }).base.flow.shift.dataSync() as Float32Array);
    expect(Array.from(flow(r.params)).some((v, i) => v !== flow(init)[i])).toBe(true);
    disposeParams(r.params);
    disposeParams(init);
    data.dispose();
  });

  it('a constant column keeps scale 1 (no infinite density)', () => {
    const dist = standardized(standardNormal([2]));
    const data = tf.tensor2d([[1, 5], [2, 5], [3, 5]]);
    const params = initDistribution(dist, { data });
    const lp = logProb(dist, params)(data);
    expect(Array.from(lp.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([data, lp]);
    disposeParams(params);
  });

  it('round-trips through the JSON codec and the model file', async () => {
    const dist = standardized(transformed(standardNormal([2]), affine([2])));
    const back = parseDistribution(encodeDistribution(dist));
    expect(E.isRight(back) && back.right).toEqual(dist);
    expect(E.isLeft(parseDistribution(JSON.stringify({ kind: 'standardized', base: { kind: 'standardNormal', shapes: [[2]] }, extra: 1 })))).toBe(true);
    const data = tf.tensor2d([[1, 50], [2, 70], [4, 65]]);
    const params = initDistribution(dist, { data });
    const model = decodeDistributionModel(await encodeDistributionModel({ dist, params }));
    const a = logProb(dist, params)(data);
    const b = logProb(model.dist, model.params)(data);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([data, a, b]);
    disposeParams(params);
    disposeParams(model.params);
  });
});
