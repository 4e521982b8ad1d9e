/**
 * The continuous flow (issue 22): the solver against closed forms, the field's exact divergence against
 * the autodiff Jacobian's trace, a fresh cnf is the identity, and with perturbed parameters the round
 * trip and log-det hold to the solver's error (not float32's), which shrinks as the solver's order says.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tfjsOps } from '../../src/algebra/tfjs.js';
import { cnf, cnfEvaluations, type CnfSpec } from '../../src/dsl/bijectors/cnf.js';
import { affine, chain, repeat } from '../../src/dsl/index.js';
import { integrate, integrateAdaptive } from '../../src/dsl/maths/ode.js';
import { field } from '../../src/dsl/maths/vector-field.js';
import { summary, summaryRows, verifyFlow, disposeParams, forward, init, inverse, perturbedParams, referenceLogDet, type ParamRecord } from '../../src/interpreters/index.js';

const o = tfjsOps;
const maxAbs = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

describe('fixed-step solvers', () => {
  // dx/dt = a x, dl/dt = a: x(1) = x0 e^a, l(1) = a. Euler's x is x0 (1 + a/n)^n exactly; RK4's is
  // x0 (1 + a/n + (a/n)^2/2 + (a/n)^3/6 + (a/n)^4/24)^n, the Taylor polynomial per step.
  it('matches the closed form of each method on a linear ODE', () => {
    fc.assert(
      fc.property(fc.double({ min: -2, max: 2, noNaN: true }), fc.integer({ min: 1, max: 20 }), (a, n) => {
        // The rate as the solver sees it (float32), so the closed form is of the same ODE.
        const h = Math.fround(a) / n;
        const expected = { euler: (1 + h) ** n, rk4: (1 + h + h ** 2 / 2 + h ** 3 / 6 + h ** 4 / 24) ** n };
        for (const method of ['euler', 'rk4'] as const) {
          const [x, l] = tf.tidy(() => {
            const r = integrate(o, method, n, 0, 1, tf.ones([1, 1]), tf.zeros([1]), (xt) => ({ velocity: tf.mul(xt, a), rate: tf.fill([1], a) }));
            return [r.x.dataSync()[0] as number, r.l.dataSync()[0] as number];
          });
          // float32: a few roundings per stage over up to 80 evaluations of values up to e^2, so 2e-5
          // relative to the larger of the value and 1 (a step of h = -1 makes the value tiny or 0).
          expect(Math.abs((x as number) - expected[method]) / Math.max(1, expected[method])).toBeLessThan(2e-5);
          expect(Math.abs((l as number) - a)).toBeLessThan(1e-5);
        }
      }),
      // The case a CI run once failed on (a step of h = -1: RK4's factor 0.375, Euler's 0).
      { numRuns: 25, examples: [[-1.9999998807919026, 2]] },
    );
  });

  it('integrates backwards with t1 < t0 (the inverse pass)', () => {
    const [x] = tf.tidy(() => [integrate(o, 'rk4', 8, 1, 0, tf.fill([1, 1], Math.E), tf.zeros([1]), (xt) => ({ velocity: xt, rate: tf.ones([1]) })).x.dataSync()[0] as number]);
    expect(Math.abs((x as number) - 1)).toBeLessThan(1e-5); // e * e^-1, RK4 error (1/8)^4/120 per step
  });
});

describe('the adaptive Dormand-Prince solver', () => {
  const linear = (a: readonly number[], rtol: number, maxSteps: number, t0 = 0, t1 = 1) =>
    tf.tidy(() => {
      const rate = tf.tensor2d(a.map((v) => [v]));
      const r = integrateAdaptive(o, { rtol, atol: 1e-9, maxSteps }, 1, t0, t1, tf.ones([a.length, 1]), tf.zeros([a.length]), (xt) => ({
        velocity: tf.mul(xt, rate),
        rate: tf.reshape(rate, [-1]),
      }));
      return { x: Array.from(r.x.dataSync()), l: Array.from(r.l.dataSync()) };
    });

  it('meets its tolerance on dx/dt = a x (closed form e^a), each sample with its own rate', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 4 }), (a) => {
        const { x, l } = linear(a, 1e-6, 200);
        // rtol 1e-6 per step over O(10) steps, plus float32 rounding of e^3 ~ 20: relative 2e-5.
        a.forEach((ai, i) => {
          expect(Math.abs((x[i] as number) - Math.exp(ai)) / Math.exp(ai)).toBeLessThan(2e-5);
          expect(Math.abs((l[i] as number) - ai)).toBeLessThan(2e-5);
        });
      }),
      { numRuns: 20 },
    );
  });

  it("gives a sample the same result alone as in a batch (per-sample step sizes)", () => {
    const batch = linear([2.5, -0.3, 0.01], 1e-5, 200);
    const alone = linear([-0.3], 1e-5, 200);
    expect(batch.x[1]).toBe(alone.x[0]);
  });

  it('integrates backwards and marks a sample that runs out of steps as NaN', () => {
    const back = linear([1], 1e-6, 200, 1, 0);
    expect(Math.abs((back.x[0] as number) - Math.exp(-1))).toBeLessThan(1e-5);
    const starved = linear([3], 1e-7, 2);
    expect(Number.isNaN(starved.x[0])).toBe(true);
  });
});

const specArb = fc.record({
  d: fc.integer({ min: 1, max: 4 }),
  hidden: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 2 }),
  activation: fc.constantFrom('tanh' as const, 'softplus' as const),
  frequencies: fc.integer({ min: 1, max: 3 }),
  context: fc.integer({ min: 0, max: 2 }),
  seed: fc.integer({ min: 0, max: 10_000 }),
});

describe('the vector field', () => {
  it('has the divergence of its autodiff Jacobian (trace), at generated widths, times and contexts', () => {
    fc.assert(
      fc.property(specArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ d, hidden, activation, frequencies, context, seed }, time) => {
        const spec = cnf([d], { hidden, activation, frequencies, ...(context > 0 ? { cond: { c: [context] } } : {}) }) as unknown as CnfSpec;
        const params = perturbedParams(spec, seed, 0.5) as ParamRecord;
        const before = tf.memory().numTensors;
        const worst = tf.tidy(() => {
          const x = tf.randomNormal([3, d], 0, 1, 'float32', seed);
          const c = context > 0 ? tf.randomNormal([3, context], 0, 1, 'float32', seed + 1) : undefined;
          const t = tf.scalar(time);
          const { divergence } = field(o, spec, params, d, x, t, c, true);
          const velocityOf = (xi: tf.Tensor) => field(o, spec, params, d, xi, t, c, false).velocity;
          // trace = sum_k d v_k / d x_k, one gradient per output coordinate.
          const trace = Array.from({ length: d }, (_, k) => tf.sum(tf.slice(tf.grad((xi: tf.Tensor) => tf.sum(tf.slice(velocityOf(xi), [0, k], [-1, 1])))(x), [0, k], [-1, 1]), 1));
          return maxAbs(divergence as tf.Tensor, tf.addN(trace));
        });
        expect(tf.memory().numTensors).toBe(before);
        disposeParams(params);
        // float32 sums of D * H products of O(1) terms.
        expect(worst).toBeLessThan(1e-4);
      }),
      { numRuns: 20 },
    );
  });
});

describe('cnf', () => {
  it('is the identity when fresh (zero last layer), with log-det 0', () => {
    const flow = cnf([3], { hidden: [8] });
    const params = init(flow, { seed: 0 });
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
    const { y, logDet } = forward(flow, params)(x);
    expect(maxAbs(y, x)).toBe(0);
    expect(tf.tidy(() => maxAbs(logDet, tf.zeros([4])))).toBe(0);
    tf.dispose([x, y, logDet]);
    disposeParams(params);
  });

  it('round-trips and matches the dense Jacobian to the solver error, with perturbed parameters', () => {
    fc.assert(
      fc.property(specArb, ({ d, hidden, activation, frequencies, seed }) => {
        const flow = cnf([d], { hidden, activation, frequencies, solver: { kind: 'rk4', steps: 24 } });
        const params = perturbedParams(flow, seed, 0.3);
        const x = tf.randomNormal([2, d], 0, 1, 'float32', seed) as tf.Tensor2D;
        const before = tf.memory().numTensors;
        const { y, logDet } = forward(flow, params)(x);
        const { x: back, logDet: inverseLogDet } = inverse(flow, params)(y);
        const reference = referenceLogDet(flow, params, [x]);
        const ld = Array.from(logDet.dataSync());
        // RK4 with h = 1/24 on fields with O(1) derivatives: global error ~ h^4 ~ 3e-6, plus float32.
        expect(maxAbs(back, x)).toBeLessThan(1e-3);
        expect(tf.tidy(() => maxAbs(tf.add(logDet, inverseLogDet), tf.zeros([2])))).toBeLessThan(1e-3);
        ld.forEach((v, i) => expect(Math.abs(v - (reference[i] as number))).toBeLessThan(1e-3));
        tf.dispose([y, logDet, back, inverseLogDet]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose(x);
        disposeParams(params);
      }),
      { numRuns: 12 },
    );
  });

  it('round-trips to the adaptive tolerance and matches the dense Jacobian with dopri5', () => {
    const flow = cnf([3], { hidden: [16, 16], solver: { kind: 'dopri5', rtol: 1e-6, atol: 1e-7, maxSteps: 200 } });
    const params = perturbedParams(flow, 5, 0.5);
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 9) as tf.Tensor2D;
    tf.tidy(() => {
      const { y, logDet } = forward(flow, params)(x);
      const back = inverse(flow, params)(y);
      // rtol 1e-6 on O(1) values, float32 steps: 1e-4 leaves room for the accumulated rounding.
      expect(maxAbs(back.x, x)).toBeLessThan(1e-4);
      const reference = referenceLogDet(flow, params, [x]);
      Array.from(logDet.dataSync()).forEach((v, i) => expect(Math.abs(v - (reference[i] as number))).toBeLessThan(1e-3));
    });
    tf.dispose(x);
    disposeParams(params);
  });

  it('converges as its order says: RK4 round-trip error falls ~16x when the steps double', () => {
    const flow = (steps: number) => cnf([2], { hidden: [16], solver: { kind: 'rk4', steps } });
    const params = perturbedParams(flow(4), 3, 1.5);
    const x = tf.randomNormal([16, 2], 0, 1, 'float32', 2) as tf.Tensor2D;
    const error = (steps: number): number =>
      tf.tidy(() => {
        const f = flow(steps);
        return maxAbs(inverse(f, params)(forward(f, params)(x).y).x, x);
      });
    const coarse = error(2);
    const fine = error(4);
    expect(coarse).toBeGreaterThan(1e-4); // a coarse solve of a strong field is visibly off
    expect(fine).toBeLessThan(coarse / 6); // order 4: 16x in exact arithmetic; 6x leaves room for the constant
    tf.dispose(x);
    disposeParams(params);
  });

  it('verify passes on a fine solver and, on a coarse one, names the layer and the solver as the cause', () => {
    const field = { hidden: [16], frequencies: 2 } as const;
    const fine = verifyFlow(chain(affine([2]), cnf([2], { ...field, solver: { kind: 'rk4', steps: 16 } })), { seed: 1, perturb: 0.5 });
    expect(fine.passed).toBe(true);
    const coarse = verifyFlow(chain(affine([2]), cnf([2], { ...field, solver: { kind: 'euler', steps: 2 } })), { seed: 1, perturb: 0.5 });
    const roundTrip = coarse.checks.find((c) => c.name === 'round trip');
    expect(roundTrip?.passed).toBe(false);
    expect(roundTrip?.cause).toBe('solver');
    expect(roundTrip?.layer).toBe('$.steps[1]');
    expect(roundTrip?.remedy).toMatch(/more steps/);
  });

  it("keeps one solver step's tensors alive at a time: peak memory does not grow with the steps", async () => {
    const peak = async (steps: number): Promise<number> => {
      const flow = cnf([6], { hidden: [32, 32], solver: { kind: 'rk4', steps } });
      const params = perturbedParams(flow, 1, 0.3);
      const x = tf.randomNormal([256, 6], 0, 1, 'float32', 3) as tf.Tensor2D;
      const info = await tf.profile(() => tf.tidy(() => forward(flow, params)(x).logDet));
      tf.dispose(x);
      disposeParams(params);
      return info.peakBytes;
    };
    const few = await peak(4);
    const many = await peak(32);
    // Without freeing each step, 8x the steps held 8x the Jacobians; 1.5x leaves room for the loop's state.
    expect(many).toBeLessThan(1.5 * few);
  });

  it('states its cost: evaluations per pass', () => {
    expect(cnfEvaluations(cnf([2], { solver: { kind: 'rk4', steps: 10 } }) as unknown as CnfSpec)).toBe(40);
    expect(cnfEvaluations(cnf([2], { solver: { kind: 'euler', steps: 10 } }) as unknown as CnfSpec)).toBe(10);
    expect(cnfEvaluations(cnf([2], { solver: { kind: 'dopri5', rtol: 1e-5, atol: 1e-6, maxSteps: 10 } }) as unknown as CnfSpec)).toBe(61);
  });

  it('shows its evaluations in summary, summed over a chain and multiplied by a repeat', () => {
    const flow = chain(repeat(cnf([2], { solver: { kind: 'rk4', steps: 4 } }), 3), cnf([2], { solver: { kind: 'euler', steps: 10 } }), affine([2]));
    const rows = summaryRows(flow);
    expect(rows.map((r) => r.evaluations)).toEqual([58, 48, 16, 10, 0]);
    expect(rows[0]?.inverseCost).toBe('integrated');
    expect(rows[4]?.forwardCost).toBe('analytic');
    const text = summary(flow);
    expect(text).toContain('ODE, 58 evals');
    expect(text).toContain('58 evaluations of vector fields');
  });
});
