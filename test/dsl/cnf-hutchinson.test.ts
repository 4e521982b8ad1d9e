/**
 * The Hutchinson trace of a cnf (issue 22): its probes have E[e e^T] = I (the closed form of a linear
 * map's trace and the estimator's variance), the field's directional derivative is the autodiff
 * Jacobian's along the probe, the estimated log-det of a whole solve averages to the exact one over
 * probe seeds, verify checks such a flow with its exact traces and says so, and the spec field is
 * optional (an exact cnf's JSON is unchanged).
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tfjsOps } from '../../src/algebra/tfjs.js';
import { cnf, withExactTraces, withHutchinsonTraces, withProbeSeeds, type CnfSpec } from '../../src/dsl/bijectors/cnf.js';
import { fit, logProb, sample, standardNormal, transformed } from '../../src/distributions/index.js';
import { mapFlows } from '../../src/distributions/spec.js';
import { decodeSpec } from '../../src/dsl/codec.js';
import { chain, affine } from '../../src/dsl/index.js';
import { field, hutchinsonProbe, probeKinds } from '../../src/dsl/maths/vector-field.js';
import { signature } from '../../src/dsl/signature.js';
import { float64Run } from '../../src/interpreters/algebra-run.js';
import { disposeParams, forward, inverse, perturbedParams, verifyFlow, type ParamRecord } from '../../src/interpreters/index.js';

const o = tfjsOps;
const PROBES = 400;
const mean = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;

describe('Hutchinson probes', () => {
  // For a matrix A, e^T A e = tr(A) + sum_{i<j} (A_ij + A_ji) e_i e_j (+ sum_i A_ii (e_i^2 - 1) for a
  // Gaussian e): mean tr(A), variance sum_{i<j} (A_ij + A_ji)^2 (+ 2 sum_i A_ii^2). The mean of 400
  // seeds' estimates is within 5 of its standard errors of tr(A) unless a probe's law is wrong by more
  // than sampling can hide (coordinates that share their sign, a scale other than 1; a sign drawn with
  // probability 0.55 is too subtle for 400 probes and passes).
  it('average to the trace of a linear map, with the closed-form variance', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((d) => fc.tuple(fc.constant(d), fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: d * d, maxLength: d * d }))),
        fc.constantFrom(...probeKinds),
        fc.integer({ min: 0, max: 1e6 }),
        ([d, a], kind, seed0) => {
          const at = (i: number, j: number): number => a[i * d + j] as number;
          const estimates = Array.from({ length: PROBES }, (_, s) => {
            const e = hutchinsonProbe(kind, seed0 + s, d);
            let v = 0;
            for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) v += (e[i] as number) * at(i, j) * (e[j] as number);
            return v;
          });
          let variance = 0;
          for (let i = 0; i < d; i++) {
            if (kind === 'gaussian') variance += 2 * at(i, i) ** 2;
            for (let j = i + 1; j < d; j++) variance += (at(i, j) + at(j, i)) ** 2;
          }
          const trace = Array.from({ length: d }, (_, i) => at(i, i)).reduce((s, v) => s + v, 0);
          expect(Math.abs(mean(estimates) - trace)).toBeLessThanOrEqual(5 * Math.sqrt(variance / PROBES) + 1e-9);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('are signs for rademacher, and the same numbers for the same seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (d, seed) => {
        expect(hutchinsonProbe('rademacher', seed, d).every((v) => v === 1 || v === -1)).toBe(true);
        expect(hutchinsonProbe('gaussian', seed, d)).toEqual(hutchinsonProbe('gaussian', seed, d));
      }),
    );
  });
});

const fieldArb = fc.record({
  d: fc.integer({ min: 1, max: 4 }),
  hidden: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 2 }),
  activation: fc.constantFrom('tanh' as const, 'softplus' as const),
  context: fc.integer({ min: 0, max: 2 }),
  seed: fc.integer({ min: 0, max: 10_000 }),
  kind: fc.constantFrom(...probeKinds),
});

describe('the field along a probe', () => {
  it("gives e^T J e with J the autodiff Jacobian, per sample, for a shared or a per-sample probe", () => {
    fc.assert(
      fc.property(fieldArb, fc.boolean(), ({ d, hidden, activation, context, seed, kind }, perSample) => {
        const spec = cnf([d], { hidden, activation, frequencies: 2, ...(context > 0 ? { cond: { c: [context] } } : {}) }) as unknown as CnfSpec;
        const params = perturbedParams(spec, seed, 0.5) as ParamRecord;
        const before = tf.memory().numTensors;
        const worst = tf.tidy(() => {
          const n = 3;
          const x = tf.randomNormal([n, d], 0, 1, 'float32', seed);
          const c = context > 0 ? tf.randomNormal([n, context], 0, 1, 'float32', seed + 1) : undefined;
          const t = tf.scalar(0.3);
          const probe = perSample ? tf.tensor2d(Array.from({ length: n }, (_, i) => hutchinsonProbe(kind, seed + i, d)), [n, d]) : tf.tensor2d([hutchinsonProbe(kind, seed, d)], [1, d]);
          const estimate = field(o, spec, params, d, x, t, c, { probe }).divergence as tf.Tensor;
          // e^T J e = sum_k e_k (grad of sum_n v_k) . e, the gradient of v_k per sample (samples are independent).
          const velocity = (xi: tf.Tensor) => field(o, spec, params, d, xi, t, c, false).velocity;
          const terms = Array.from({ length: d }, (_, k) => {
            const row = tf.grad((xi: tf.Tensor) => tf.sum(tf.slice(velocity(xi), [0, k], [-1, 1])))(x); // [N, D]: dv_k/dx
            return tf.mul(tf.sum(tf.mul(row, probe), 1), tf.squeeze(tf.slice(tf.broadcastTo(probe, [n, d]), [0, k], [-1, 1]), [1]));
          });
          return tf.max(tf.abs(tf.sub(estimate, tf.addN(terms)))).dataSync()[0] as number;
        });
        expect(tf.memory().numTensors).toBe(before);
        disposeParams(params);
        // float32 sums of D * H products of O(1) terms (the exact trace's test uses the same bound).
        expect(worst).toBeLessThan(1e-4);
      }),
      { numRuns: 20 },
    );
  });
});

describe('a cnf with a Hutchinson trace', () => {
  const solver = { kind: 'rk4', steps: 4 } as const;
  // The estimated log-det of a whole solve, over probe seeds, has the exact solve's log-det as its mean
  // (the estimate is linear in the integrand, which is unbiased at every point of the path, up to the
  // path's dependence on nothing but x: the probe does not move x). 120 seeds, 5 standard errors of
  // their sample spread, plus 1e-4 for float32 and the two solves' rounding.
  it('averages over probe seeds to the exact log-det, with perturbed parameters', () => {
    fc.assert(
      fc.property(fieldArb, ({ d, hidden, activation, seed, kind }) => {
        const exact = cnf([d], { hidden, activation, frequencies: 2, solver });
        const params = perturbedParams(exact, seed, 0.4);
        const x = tf.randomNormal([2, d], 0, 1, 'float32', seed) as tf.Tensor2D;
        const before = tf.memory().numTensors;
        const truth = tf.tidy(() => Array.from(forward(exact, params)(x).logDet.dataSync()));
        const draws = Array.from({ length: 120 }, (_, s) =>
          tf.tidy(() => Array.from(forward(cnf([d], { hidden, activation, frequencies: 2, solver, trace: { kind: 'hutchinson', probe: kind, seed: seed + s } }), params)(x).logDet.dataSync())),
        );
        expect(tf.memory().numTensors).toBe(before);
        truth.forEach((v, i) => {
          const column = draws.map((r) => r[i] as number);
          const m = mean(column);
          const sd = Math.sqrt(mean(column.map((c) => (c - m) ** 2)));
          expect(Math.abs(m - v)).toBeLessThanOrEqual((5 * sd) / Math.sqrt(column.length) + 1e-4);
        });
        tf.dispose(x);
        disposeParams(params);
      }),
      { numRuns: 5 },
    );
  });

  it('is exact at D = 1 (a Rademacher probe squares to 1), and its forward and inverse log-dets cancel', () => {
    const flow = (trace?: { kind: 'hutchinson'; probe: 'rademacher'; seed: number }) => cnf([1], { hidden: [6], solver, ...(trace === undefined ? {} : { trace }) });
    const params = perturbedParams(flow(), 4, 0.5);
    const x = tf.randomNormal([5, 1], 0, 1, 'float32', 3) as tf.Tensor2D;
    tf.tidy(() => {
      const estimated = flow({ kind: 'hutchinson', probe: 'rademacher', seed: 9 });
      const f = forward(estimated, params)(x);
      expect(tf.max(tf.abs(tf.sub(f.logDet, forward(flow(), params)(x).logDet))).dataSync()[0]).toBeLessThan(1e-6);
      // The same probe both ways: the backward solve retraces the path (RK4 error ~ h^4) with the opposite sign.
      expect(tf.max(tf.abs(tf.add(f.logDet, inverse(estimated, params)(f.y).logDet))).dataSync()[0]).toBeLessThan(1e-3);
    });
    tf.dispose(x);
    disposeParams(params);
  });

  // The probe is a constant of the spec, so the float64 reference computes the same estimate: float32
  // against float64 over 16 RK4 evaluations of O(1) values, 1e-4 (the engines' tables use the same).
  it('gives the float64 engine the same estimate (the probe is a constant of the spec)', () => {
    fc.assert(
      fc.property(fieldArb, ({ d, hidden, activation, seed, kind }) => {
        const flow = cnf([d], { hidden, activation, frequencies: 2, solver, trace: { kind: 'hutchinson', probe: kind, seed } });
        const params = perturbedParams(flow, seed, 0.4);
        const x = tf.randomNormal([3, d], 0, 1, 'float32', seed) as tf.Tensor2D;
        const f32 = tf.tidy(() => Array.from(forward(flow, params)(x).logDet.dataSync()));
        const f64 = Array.from(float64Run(flow, params, [x], {}, 'forward').logDet.data);
        f32.forEach((v, i) => expect(Math.abs(v - (f64[i] as number))).toBeLessThan(1e-4 * (1 + Math.abs(f64[i] as number))));
        tf.dispose(x);
        disposeParams(params);
      }),
      { numRuns: 10 },
    );
  });

  it('withHutchinsonTraces leaves the draws of a distribution unchanged (the probe only enters the log-det)', () => {
    const flow = chain(affine([3]), cnf([3], { hidden: [8], frequencies: 2, solver, cond: { c: [2] } }));
    const dist = transformed(standardNormal([3]), flow);
    const params = perturbedParams(flow, 6, 0.5);
    const all = { base: {}, flow: params };
    const ctx = { c: tf.randomNormal([5, 2], 0, 1, 'float32', 1) };
    tf.tidy(() => {
      const exact = sample(dist, all as never)(5, { seed: 3, ctx } as never);
      const estimated = sample(mapFlows(dist, withHutchinsonTraces), all as never)(5, { seed: 3, ctx } as never);
      expect(tf.max(tf.abs(tf.sub(exact.x, estimated.x))).dataSync()[0]).toBe(0);
    });
    const mapped = mapFlows(dist, withHutchinsonTraces) as unknown as { flow: { steps: CnfSpec[] } };
    expect(mapped.flow.steps[1]?.trace).toEqual({ kind: 'hutchinson', probe: 'rademacher', seed: 0 });
    tf.dispose(ctx.c);
    disposeParams(params);
  });

  it('verify checks it with the exact trace and notes the estimate and its gap', () => {
    const flow = chain(affine([3]), cnf([3], { hidden: [8], frequencies: 2, solver: { kind: 'rk4', steps: 16 }, trace: { kind: 'hutchinson', probe: 'gaussian', seed: 3 } }));
    const report = verifyFlow(flow, { seed: 2, perturb: 0.5 });
    expect(report.passed).toBe(true);
    expect(report.checks.some((c) => c.name === 'log-det reference')).toBe(true);
    const note = report.notes.find((n) => n.includes('Hutchinson'));
    expect(note).toMatch(/^\$\.steps\[1\]: log-det estimated/);
    const gap = Number(/by up to (\S+) here/.exec(note ?? '')?.[1]);
    expect(gap).toBeGreaterThan(0); // a D = 3 Gaussian probe is not exact
  });

  it('keeps an exact spec unchanged and round-trips the trace through JSON; a bad seed names its path', () => {
    const exact = cnf([2], { hidden: [4] });
    expect(Object.keys(exact)).not.toContain('trace');
    expect(cnf([2], { hidden: [4], trace: { kind: 'exact' } })).toEqual(exact);
    const estimated = cnf([2], { hidden: [4], trace: { kind: 'hutchinson', probe: 'rademacher', seed: 5 } });
    expect(decodeSpec(JSON.parse(JSON.stringify(estimated)))).toEqual(E.right(estimated));
    expect(withExactTraces(chain(affine([2]), estimated))).toEqual(chain(affine([2]), exact));
    const misspelt = decodeSpec({ ...exact, trace: { kind: 'hutchinson', probe: 'rademacher', seeds: 5 } });
    expect(E.isLeft(misspelt) && JSON.stringify(misspelt.left)).toMatch(/did you mean 'seed'/);
    expect(() => signature(cnf([2], { trace: { kind: 'hutchinson', probe: 'gaussian', seed: -1 } }))).toThrow(/trace\.seed/);
  });

  it('withProbeSeeds gives each Hutchinson layer a seed drawn from the step seed, and leaves exact layers alone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 2 ** 31 }), (a, b) => {
        const estimated = (seed: number) => cnf([2], { hidden: [4], trace: { kind: 'hutchinson', probe: 'rademacher', seed } });
        const flow = chain(estimated(0), affine([2]), estimated(0));
        const seedsOf = (f: ReturnType<typeof withProbeSeeds>) => (f as unknown as { steps: CnfSpec[] }).steps.flatMap((l) => (l.trace?.kind === 'hutchinson' ? [l.trace.seed] : []));
        const [x, y] = [seedsOf(withProbeSeeds(flow, a)), seedsOf(withProbeSeeds(flow, b))];
        expect(x).toHaveLength(2);
        expect(x[0]).not.toBe(x[1]); // two layers, two probes
        expect(seedsOf(withProbeSeeds(flow, a))).toEqual(x);
        if (a !== b) expect(x).not.toEqual(y);
        expect((withProbeSeeds(flow, a) as unknown as { steps: unknown[] }).steps[1]).toEqual(affine([2]));
      }),
      { numRuns: 30 },
    );
  });

  // x = 2 e in 3-D (entropy 3/2 log(2 pi e) + 3 log 2 = 6.337): a likelihood fit through Hutchinson
  // estimates (fresh probes each step) lowers the exact NLL from the untrained flow's, which is
  // 3/2 log(2 pi) + E|x|^2/2 = 2.757 + 6 = 8.757, to below 7.3 in 50 steps.
  it('trains by likelihood on its estimates: the exact NLL falls', () => {
    const e = tf.randomNormal([1024, 3], 0, 1, 'float32', 5) as tf.Tensor2D;
    const x = tf.mul(e, 2) as tf.Tensor2D;
    const estimated = cnf([3], { hidden: [16], frequencies: 2, solver: { kind: 'rk4', steps: 4 }, trace: { kind: 'hutchinson', probe: 'rademacher', seed: 1 } });
    const r = fit(transformed(standardNormal([3]), estimated), x, { steps: 50, lr: 2e-2, batchSize: 128, evalEvery: 25, seed: 0, validationFraction: 0.25 });
    const exactNll = tf.tidy(() => -(tf.mean(logProb(transformed(standardNormal([3]), withExactTraces(estimated) as typeof estimated), r.params)(x)).dataSync()[0] as number));
    console.log(`Hutchinson likelihood fit: exact NLL ${exactNll} (untrained 8.757, entropy 6.337)`);
    expect(exactNll).toBeLessThan(7.3); // 6.69 when written: within 0.4 nats of the entropy
    disposeParams(r.params);
    tf.dispose([e, x]);
  });
});
