/**
 * Fixed-step ODE solvers on the op algebra, for continuous flows: dx/dt = f(x, t) together with the
 * log-density's companion dl/dt = g(x, t) (the divergence of f), integrated from t0 to t1 in `steps`
 * equal steps h = (t1 - t0) / steps, so t1 < t0 integrates backwards (the inverse pass) with the same code.
 *
 * - Euler:  s_{k+1} = s_k + h F(s_k, t_k)                                  (1 evaluation a step, order 1)
 * - RK4:    k1 = F(s, t), k2 = F(s + h/2 k1, t + h/2), k3 = F(s + h/2 k2, t + h/2), k4 = F(s + h k3, t + h),
 *           s_{k+1} = s + h/6 (k1 + 2 k2 + 2 k3 + k4)                        (4 evaluations a step, order 4)
 * where s = (x, l) and F = (f, g). The loop is the algebra's `iterate`, so engines emit it once.
 */
import type { Ops } from '../../algebra/ops.js';

/** A fixed-step method by name. */
export type FixedStepMethod = 'euler' | 'rk4';

/** Function evaluations of one step of each method. */
export const EVALUATIONS_PER_STEP: { readonly [M in FixedStepMethod]: number } = { euler: 1, rk4: 4 };

/** Order of accuracy of each method (global error O(h^order)). */
export const METHOD_ORDER: { readonly [M in FixedStepMethod]: number } = { euler: 1, rk4: 4 };

/** The right-hand side: the velocity of x and the rate of the companion l ([N]) at (x, t); t is a scalar value. */
export type Dynamics<T> = (x: T, t: T) => { readonly velocity: T; readonly rate: T };

/** x and l after integrating from t0 to t1. */
export const integrate = <T>(o: Ops<T>, method: FixedStepMethod, steps: number, t0: number, t1: number, x0: T, l0: T, f: Dynamics<T>): { x: T; l: T } => {
  const h = (t1 - t0) / steps;
  const hT = o.scalar(h);
  const axpy = (a: T, k: T, scale: number): T => o.add(a, o.mul(k, o.scalar(scale)));
  const [x, l] = o.iterate(steps, [x0, l0], (i, [x = x0, l = l0]) => {
    const t = o.add(o.scalar(t0), o.mul(i, hT));
    if (method === 'euler') {
      const k = f(x, t);
      return [axpy(x, k.velocity, h), axpy(l, k.rate, h)];
    }
    const half = o.add(t, o.scalar(h / 2));
    const k1 = f(x, t);
    const k2 = f(axpy(x, k1.velocity, h / 2), half);
    const k3 = f(axpy(x, k2.velocity, h / 2), half);
    const k4 = f(axpy(x, k3.velocity, h), o.add(t, hT));
    const weighted = (a: T, b: T, c: T, d: T): T => o.add(o.add(a, o.mul(o.add(b, c), o.scalar(2))), d);
    return [
      axpy(x, weighted(k1.velocity, k2.velocity, k3.velocity, k4.velocity), h / 6),
      axpy(l, weighted(k1.rate, k2.rate, k3.rate, k4.rate), h / 6),
    ];
  });
  if (x === undefined || l === undefined) throw new TypeError('the solver lost its state');
  return { x, l };
};

/** The tolerances and step budget of the adaptive solver. */
export interface AdaptiveOptions {
  /** Relative tolerance (per coordinate, scaled by the larger of |x| before and after the step). */
  readonly rtol: number;
  /** Absolute tolerance. */
  readonly atol: number;
  /** Attempted steps (accepted or rejected) at most; a sample that has not reached t1 by then becomes NaN. */
  readonly maxSteps: number;
}

// Dormand & Prince (1980) 5(4): nodes c, the stages' weights a, the 5th-order weights b (= the last
// row of a: first same as last, so a step's final stage is the next step's first), and b - b* (the
// difference with the embedded 4th-order solution, the local error estimate).
const DP_C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1];
const DP_A: readonly (readonly number[])[] = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
];
const DP_B = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84];
const DP_ERROR = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];

/** Evaluations of the adaptive solver in the worst case: one to start, six per attempted step. */
export const adaptiveEvaluations = (maxSteps: number): number => 1 + 6 * maxSteps;

/** Where the step-size controller starts: a tenth of the interval. */
const INITIAL_STEP = 0.1;

/**
 * x and l after integrating from t0 to t1 with the adaptive Dormand-Prince 5(4) method, each sample
 * with its own step size, so a sample's result does not depend on the rest of its batch. A step of
 * size h (a fraction of |t1 - t0|) is accepted when the error estimate, as the root mean square over
 * the coordinates of x and l of e_k / (atol + rtol max(|s_k|, |s'_k|)), is at most 1; either way the
 * next size is h min(5, max(0.2, 0.9 err^(-1/5))) (Hairer, Norsett & Wanner, II.4). The loop runs at
 * most `maxSteps` attempts and ends early where the engine can see that every sample is done.
 * f must accept t as [N, 1] (a time per sample).
 */
export const integrateAdaptive = <T>(o: Ops<T>, options: AdaptiveOptions, dim: number, t0: number, t1: number, x0: T, l0: T, f: Dynamics<T>): { x: T; l: T } => {
  const span = t1 - t0;
  const column = (v: T): T => o.reshape(v, [1]); // [N] -> [N, 1]
  const zero = column(o.perSample(x0, o.scalar(0)));
  const k0 = f(x0, o.add(zero, o.scalar(t0)));
  // State: x [N, D], l [N, 1], progress s in [0, 1] and step size h [N, 1], and the first stage (v, rate).
  const start: readonly T[] = [x0, column(l0), zero, o.add(zero, o.scalar(INITIAL_STEP)), k0.velocity, column(k0.rate)];
  const finished = (s: T): T => o.greaterEqual(s, o.scalar(1 - 1e-6));
  const [x, l, s] = o.iterate(
    options.maxSteps,
    start,
    (_i, state) => {
      const [x, l, s, h, v1, r1] = state as [T, T, T, T, T, T];
      const done = finished(s);
      const step = o.where(done, o.mul(h, o.scalar(0)), o.minimum(h, o.sub(o.scalar(1), s))); // [N, 1], 0 once done
      const dt = o.mul(step, o.scalar(span));
      const velocities: T[] = [v1];
      const rates: T[] = [r1];
      for (let stage = 1; stage < 6; stage++) {
        const weights = DP_A[stage] as readonly number[];
        let xs = x;
        let ls = l;
        weights.forEach((w, j) => {
          if (w === 0) return;
          xs = o.add(xs, o.mul(velocities[j] as T, o.mul(dt, o.scalar(w))));
          ls = o.add(ls, o.mul(rates[j] as T, o.mul(dt, o.scalar(w))));
        });
        const k = f(xs, o.add(o.scalar(t0), o.mul(o.add(s, o.mul(step, o.scalar(DP_C[stage] as number))), o.scalar(span))));
        velocities.push(k.velocity);
        rates.push(column(k.rate));
      }
      const combine = (base: T, ks: readonly T[], weights: readonly number[]): T =>
        weights.reduce((acc, w, j) => (w === 0 ? acc : o.add(acc, o.mul(ks[j] as T, o.mul(dt, o.scalar(w))))), base);
      const xNew = combine(x, velocities, DP_B);
      const lNew = combine(l, rates, DP_B);
      const sNew = o.add(s, step);
      const last = f(xNew, o.add(o.scalar(t0), o.mul(sNew, o.scalar(span))));
      const vLast = last.velocity;
      const rLast = column(last.rate);
      // Error estimate per coordinate (x's D and l's one), scaled by the tolerance.
      const errX = combine(o.mul(x, o.scalar(0)), [...velocities, vLast], DP_ERROR);
      const errL = combine(o.mul(l, o.scalar(0)), [...rates, rLast], DP_ERROR);
      const scaled = (e: T, before: T, after: T): T => o.div(e, o.add(o.scalar(options.atol), o.mul(o.scalar(options.rtol), o.maximum(o.abs(before), o.abs(after)))));
      const sq = o.add(o.sumEvent(o.square(scaled(errX, x, xNew))), o.sumEvent(o.square(scaled(errL, l, lNew))));
      const err = column(o.sqrt(o.div(sq, o.scalar(dim + 1))));
      const accept = o.less(err, o.scalar(1 + 1e-12));
      const factor = o.minimum(o.scalar(5), o.maximum(o.scalar(0.2), o.mul(o.scalar(0.9), o.exp(o.mul(o.log(o.maximum(err, o.scalar(1e-10))), o.scalar(-0.2))))));
      const keep = (next: T, now: T): T => o.where(accept, next, now);
      return [keep(xNew, x), keep(lNew, l), keep(sNew, s), o.where(done, h, o.mul(h, factor)), keep(vLast, v1), keep(rLast, r1)];
    },
    (state) => finished(state[2] as T),
  );
  if (x === undefined || l === undefined || s === undefined) throw new TypeError('the solver lost its state');
  // A sample that ran out of steps is not a number: its result would be wrong, and this says so loudly.
  const nan = o.scalar(Number.NaN);
  const done = finished(s);
  return { x: o.where(done, x, nan), l: o.sumEvent(o.where(done, l, nan)) };
};
