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
