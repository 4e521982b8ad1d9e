/**
 * The rational-quadratic (RQ) spline transformer of Durkan et al. 2019 ("Neural Spline Flows"), as
 * in nflows' `unconstrained_rational_quadratic_spline` and zuko; the maths of the spline itself is
 * stated in src/dsl/bijectors/spline-coupling.ts.
 *
 * Conditioner output layout (stated here once: `splineValuesPerElement` and the transformer's
 * `layout`, which every engine imports): with c channels to transform and K bins, the net outputs
 * c * (3K - 1) channels, element-major: for channel j (at the same position), network channels
 * j*(3K-1) .. (j+1)*(3K-1)-1 are, in order,
 *   [K unnormalised widths, K unnormalised heights, K-1 interior derivative preactivations].
 *
 * Widths (heights alike): w = minBin + (1 - minBin K) softmax(u), scaled to 2B; knots are the cumulative
 * sums from -B, with the first and last knots pinned to exactly -B and B. minBin = 1e-3 (lowered to
 * 1/(2K) for K > 500 so that minBin K < 1 always). Interior derivatives: d = softplus(u + c) + 1e-3,
 * with c = log(expm1(1 - 1e-3)) ≈ 0.5397 so that a zero preactivation gives d = 1 exactly; the two
 * boundary derivatives are fixed to 1, so the identity tails outside [-B, B] join the spline with
 * continuous value and slope.
 *
 * Initialisation is the identity: the net's last layer is zero, so widths and heights are uniform
 * (every slope h_k / w_k = 1) and, thanks to the shift c, every derivative is 1, which makes the RQ
 * map y = x on each bin. (nflows uses no shift and starts from derivatives softplus(0) + 1e-3 ≈ 0.694,
 * i.e. not the identity; the shift only reparametrises the derivative and changes nothing else.)
 *
 * Written on the op algebra. Bin search (no engine needs a searchsorted): count interior knots <= x with
 * comparisons, turned into a one-hot over bins; per-bin quantities are one-hot weighted sums.
 * Comparisons only select, so all gradients flow through the arithmetic.
 * Elements outside [-B, B] are computed on a clipped input (so nothing is NaN or infinite there) and
 * then replaced by the identity (log-det 0) with `where`.
 * Inverse: closed form, the root of the paper's quadratic in the cancellation-free form (see inverseXi).
 */
import type { Ops } from '../../algebra/ops.js';
import { num, strictObject, tag } from '../codec-parts.js';
import { defineTransformer, type ElementwiseResult } from '../maths/elementwise.js';
import { isDim } from '../shape.js';

export interface SplineFields {
  /** Number of bins K. */
  readonly bins: number;
  /** Half-width B of the spline's interval. */
  readonly bound: number;
}

/** Minimum bin width/height as a fraction of the interval 2B (nflows' DEFAULT_MIN_BIN_WIDTH/HEIGHT). */
export const MIN_BIN_SIZE = 1e-3;
/** Minimum interior derivative (nflows' DEFAULT_MIN_DERIVATIVE). */
export const MIN_DERIVATIVE = 1e-3;
/** Shift of the derivative preactivation: softplus(DERIVATIVE_SHIFT) + MIN_DERIVATIVE = 1. */
export const DERIVATIVE_SHIFT = Math.log(Math.expm1(1 - MIN_DERIVATIVE));

/** Values per element of a K-bin spline: K widths, K heights and K-1 interior derivatives. */
export const splineValuesPerElement = (bins: number): number => 3 * bins - 1;

/** Bin sizes of one axis: softmax, min-size mixing, scaled to 2B; knots from -B to B (pinned). */
const binsOf = <T>(o: Ops<T>, u: T, k: number, bound: number): { knots: T; sizes: T } => {
  const minBin = Math.min(MIN_BIN_SIZE, 0.5 / k);
  const frac = o.add(o.scalar(minBin), o.mul(o.scalar(1 - minBin * k), o.softmaxLast(u)));
  // Interior knots -B + 2B * (w_0 + ... + w_j), j = 0..K-2; the end knots are exactly -B and B.
  const inner = o.add(o.scalar(-bound), o.mul(o.scalar(2 * bound), o.sliceLast(o.cumsumLast(frac), 0, k - 1)));
  const knots = o.padLast(o.padLast(inner, 1, 0, -bound), 0, 1, bound);
  return { knots, sizes: o.sub(o.sliceLast(knots, 1, k), o.sliceLast(knots, 0, k)) };
};

/** One-hot [..., K] of the bin of z [...] (already inside [-B, B]) among `knots` [..., K+1]; z = B is in the last bin. */
const binOneHot = <T>(o: Ops<T>, z: T, dims: readonly number[], knots: T, k: number): T => {
  // ge[..., j] = [z >= knot_{j+1}], j = 0..K-2 (interior knots): a run of ones then zeros.
  const ge = o.where(o.greaterEqual(o.reshape(z, [...dims, 1]), o.sliceLast(knots, 1, k - 1)), o.scalar(1), o.scalar(0));
  return o.sub(o.padLast(ge, 1, 0, 1), o.padLast(ge, 0, 1, 0));
};

const pick = <T>(o: Ops<T>, oneHot: T, t: T): T => o.sumLast(o.mul(oneHot, t));

/** z where -B <= z <= B, else `outside` (nested selects: a logical and has no gradient in tfjs). */
const selectInside = <T>(o: Ops<T>, z: T, bound: number, inside: T, outside: T): T =>
  o.where(o.greaterEqual(z, o.scalar(-bound)), o.where(o.greaterEqual(o.scalar(bound), z), inside, outside), outside);

/**
 * The inverse's position in the bin, xi in [0, 1], from dy = y - y_k: the root in [0, 1] of
 * a xi^2 + b xi + c = 0 with
 *   a = h_k (s_k - d_k) + dy (d_k + d_{k+1} - 2 s_k), b = h_k d_k - dy (d_k + d_{k+1} - 2 s_k), c = -s_k dy <= 0,
 * which is xi = 2c / (-b - sqrt(b^2 - 4ac)) = (-b + sqrt(b^2 - 4ac)) / (2a) (the paper's first form; the
 * denominator equals 2c / xi < 0 and tends to -2 h_k d_k as dy -> 0). The first form cancels
 * catastrophically when b < 0 (|b| - sqrt(b^2 + 4a|c|)), which happens near the top of bins with
 * d_{k+1} > 2 s_k; there a >= |b| > 0 and the second form has no cancellation. So the root is taken
 * in whichever form adds terms of one sign (the classic stable quadratic formula), each branch with
 * a guarded denominator so the unselected one is finite (no NaN reaches the select's gradient).
 */
const inverseXi = <T>(o: Ops<T>, dy: T, hk: T, s: T, dk: T, dSum: T): T => {
  const a = o.add(o.mul(hk, o.sub(s, dk)), o.mul(dy, dSum));
  const b = o.sub(o.mul(hk, dk), o.mul(dy, dSum));
  const c = o.mul(o.neg(s), dy);
  const disc = o.relu(o.sub(o.square(b), o.mul(o.scalar(4), o.mul(a, c)))); // >= 0 in exact arithmetic; relu guards rounding
  const root = o.sqrt(disc);
  const bNonNeg = o.greaterEqual(b, o.scalar(0));
  const den1 = o.where(bNonNeg, o.sub(o.neg(b), root), o.scalar(1)); // < 0 where used
  const den2 = o.where(bNonNeg, o.scalar(1), o.mul(o.scalar(2), a)); // > 0 where used
  const xi = o.where(bNonNeg, o.div(o.mul(o.scalar(2), c), den1), o.div(o.sub(root, b), den2));
  return o.clip(xi, 0, 1);
};

/**
 * The elementwise RQ spline with identity tails, on the algebra. z: [N, ...dims]; raw: [N, ...dims, 3K-1]
 * (each element's values on the last axis). Returns the outputs and the elementwise log|dout/dz|.
 */
export const rqSpline = <T>(o: Ops<T>, z: T, dims: readonly number[], raw: T, k: number, bound: number, inverse: boolean): { out: T; logDet: T } => {
  const [uw, uh, ud] = o.splitLast(raw, [k, k, k - 1]) as [T, T, T];
  const xs = binsOf(o, uw, k, bound);
  const ys = binsOf(o, uh, k, bound);
  const interior = o.add(o.softplus(o.add(ud, o.scalar(DERIVATIVE_SHIFT))), o.scalar(MIN_DERIVATIVE));
  const derivs = o.padLast(interior, 1, 1, 1);

  const zc = o.clip(z, -bound, bound);
  const oneHot = binOneHot(o, zc, dims, inverse ? ys.knots : xs.knots, k);
  const xk = pick(o, oneHot, o.sliceLast(xs.knots, 0, k));
  const wk = pick(o, oneHot, xs.sizes);
  const yk = pick(o, oneHot, o.sliceLast(ys.knots, 0, k));
  const hk = pick(o, oneHot, ys.sizes);
  const dk = pick(o, oneHot, o.sliceLast(derivs, 0, k));
  const dk1 = pick(o, oneHot, o.sliceLast(derivs, 1, k));
  const s = o.div(hk, wk);
  const dSum = o.sub(o.add(dk, dk1), o.mul(o.scalar(2), s)); // d_k + d_{k+1} - 2 s_k

  const xi = inverse ? inverseXi(o, o.sub(zc, yk), hk, s, dk, dSum) : o.clip(o.div(o.sub(zc, xk), wk), 0, 1);
  const xi1 = o.sub(o.scalar(1), xi);
  const t = o.mul(xi, xi1); // xi (1 - xi)
  const denom = o.add(s, o.mul(dSum, t));
  const splineOut = inverse ? o.add(xk, o.mul(xi, wk)) : o.add(yk, o.div(o.mul(hk, o.add(o.mul(s, o.square(xi)), o.mul(dk, t))), denom));
  // log dy/dx = 2 log s + log(d_{k+1} xi^2 + 2 s xi (1-xi) + d_k (1-xi)^2) - 2 log denom
  const inner = o.add(o.add(o.mul(dk1, o.square(xi)), o.mul(o.mul(o.scalar(2), s), t)), o.mul(dk, o.square(xi1)));
  const logDeriv = o.sub(o.add(o.mul(o.scalar(2), o.log(s)), o.log(inner)), o.mul(o.scalar(2), o.log(denom)));
  return {
    out: selectInside(o, z, bound, splineOut, z),
    logDet: selectInside(o, z, bound, inverse ? o.neg(logDeriv) : logDeriv, o.scalar(0)),
  };
};

/** The spline on every element of z, each with its own 3K-1 conditioner values (element-major). */
const apply = <T>(o: Ops<T>, { bins, bound }: SplineFields, z: T, raw: T, dims: readonly number[], inverse: boolean): ElementwiseResult<T> => {
  const { out, logDet } = rqSpline(o, z, dims, o.reshape(raw, [...dims, splineValuesPerElement(bins)]), bins, bound, inverse);
  return { out, logDet: o.sumEvent(logDet) };
};

/** The rational-quadratic spline transformer (`{ kind: 'spline', bins, bound }`): 3K - 1 conditioner values per element, element-major. */
export const splineTransformer = defineTransformer({
  kind: 'spline',
  codec: strictObject("a 'spline' transformer", { kind: tag('spline'), bins: num, bound: num }),
  valuesPerElement: ({ bins }) => splineValuesPerElement(bins),
  layout: 'elementMajor',
  forward: (o, fields, x, raw, dims) => apply(o, fields, x, raw, dims, false),
  inverse: (o, fields, y, raw, dims) => apply(o, fields, y, raw, dims, true),
  checks: (fields, at) => [
    ...(isDim(fields.bins) ? [] : [{ path: `${at}.bins`, message: `expected a positive integer, got ${fields.bins}` }]),
    ...(fields.bound > 0 ? [] : [{ path: `${at}.bound`, message: `expected a positive bound, got ${fields.bound}` }]),
  ],
});
