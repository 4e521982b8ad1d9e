/**
 * The rational-quadratic (RQ) spline transformer of Durkan et al. 2019 ("Neural Spline Flows"), as
 * in nflows' `unconstrained_rational_quadratic_spline` and zuko; the maths of the spline itself is
 * stated in src/dsl/bijectors/spline-coupling.ts.
 *
 * Network output layout: with c channels to transform and K bins, the net outputs c * (3K - 1)
 * channels; for channel j (at the same position), network channels j*(3K-1) .. (j+1)*(3K-1)-1 are,
 * in order,
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
 * Bin search (tfjs has no searchsorted): count interior knots <= x with comparisons, turned into a
 * one-hot over bins; per-bin quantities are one-hot weighted sums. Comparisons only select, so all
 * gradients flow through the arithmetic; every op used has a gradient on the cpu backend.
 * Elements outside [-B, B] are computed on a clipped input (so nothing is NaN or infinite there) and
 * then replaced by the identity (log-det 0) with tf.where.
 * Inverse: closed form, the root of the paper's quadratic in the cancellation-free form (see inverseXi).
 */
import * as tf from '@tensorflow/tfjs';
import { sumPerSample } from '../../layers/ops.js';
import type { Transformer } from '../maths/coupling.js';
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


/** Bin sizes of one axis: softmax, min-size mixing, scaled to 2B; knots from -B to B (pinned). */
const binsOf = (u: tf.Tensor2D, k: number, bound: number): { knots: tf.Tensor2D; sizes: tf.Tensor2D } => {
  const m = u.shape[0];
  const minBin = Math.min(MIN_BIN_SIZE, 0.5 / k);
  const frac = tf.add(minBin, tf.mul(1 - minBin * k, tf.softmax(u))) as tf.Tensor2D;
  // Interior knots -B + 2B * (w_0 + ... + w_j), j = 0..K-2; the end knots are exactly -B and B.
  const inner = tf.add(-bound, tf.mul(2 * bound, tf.slice(tf.cumsum(frac, 1), [0, 0], [m, k - 1])));
  const knots = tf.concat([tf.fill([m, 1], -bound), inner, tf.fill([m, 1], bound)], 1) as tf.Tensor2D;
  const sizes = tf.sub(tf.slice(knots, [0, 1], [m, k]), tf.slice(knots, [0, 0], [m, k])) as tf.Tensor2D;
  return { knots, sizes };
};

/** One-hot [M, K] of the bin of z (already inside [-B, B]) among `knots` [M, K+1]; z = B is in the last bin. */
const binOneHot = (z: tf.Tensor1D, knots: tf.Tensor2D, k: number): tf.Tensor2D => {
  const m = z.shape[0];
  // ge[:, j] = [z >= knot_{j+1}], j = 0..K-2 (interior knots): a run of ones then zeros.
  const ge = tf.cast(tf.greaterEqual(tf.expandDims(z, 1), tf.slice(knots, [0, 1], [m, k - 1])), 'float32');
  return tf.sub(tf.concat([tf.ones([m, 1]), ge], 1), tf.concat([ge, tf.zeros([m, 1])], 1)) as tf.Tensor2D;
};

const pick = (oneHot: tf.Tensor2D, t: tf.Tensor2D): tf.Tensor1D => tf.sum(tf.mul(oneHot, t), 1) as tf.Tensor1D;

/** z where -B <= z <= B, else `outside` (nested selects: logicalAnd has no gradient in tfjs). */
const selectInside = (z: tf.Tensor1D, bound: number, inside: tf.Tensor1D, outside: tf.Tensor1D): tf.Tensor1D =>
  tf.where(tf.greaterEqual(z, -bound), tf.where(tf.greaterEqual(bound, z), inside, outside), outside) as tf.Tensor1D;

/**
 * The inverse's position in the bin, xi in [0, 1], from dy = y - y_k: the root in [0, 1] of
 * a xi^2 + b xi + c = 0 with
 *   a = h_k (s_k - d_k) + dy (d_k + d_{k+1} - 2 s_k), b = h_k d_k - dy (d_k + d_{k+1} - 2 s_k), c = -s_k dy <= 0,
 * which is xi = 2c / (-b - sqrt(b^2 - 4ac)) = (-b + sqrt(b^2 - 4ac)) / (2a) (the paper's first form; the
 * denominator equals 2c / xi < 0 and tends to -2 h_k d_k as dy -> 0). The first form cancels
 * catastrophically when b < 0 (|b| - sqrt(b^2 + 4a|c|)), which happens near the top of bins with
 * d_{k+1} > 2 s_k; there a >= |b| > 0 and the second form has no cancellation. So the root is taken
 * in whichever form adds terms of one sign (the classic stable quadratic formula), each branch with
 * a guarded denominator so the unselected one is finite (no NaN reaches tf.where's gradient).
 */
const inverseXi = (dy: tf.Tensor, hk: tf.Tensor, s: tf.Tensor, dk: tf.Tensor, dSum: tf.Tensor): tf.Tensor => {
  const a = tf.add(tf.mul(hk, tf.sub(s, dk)), tf.mul(dy, dSum));
  const b = tf.sub(tf.mul(hk, dk), tf.mul(dy, dSum));
  const c = tf.mul(tf.neg(s), dy);
  const disc = tf.relu(tf.sub(tf.square(b), tf.mul(4, tf.mul(a, c)))); // >= 0 in exact arithmetic; relu guards rounding
  const root = tf.sqrt(disc);
  const bNonNeg = tf.greaterEqual(b, 0);
  const den1 = tf.where(bNonNeg, tf.sub(tf.neg(b), root), tf.onesLike(b)); // < 0 where used
  const den2 = tf.where(bNonNeg, tf.onesLike(a), tf.mul(2, a)); // > 0 where used
  const xi = tf.where(bNonNeg, tf.div(tf.mul(2, c), den1), tf.div(tf.sub(root, b), den2));
  return tf.clipByValue(xi, 0, 1);
};

/**
 * The elementwise RQ spline with identity tails. z: [M] inputs (x forward, y inverse); raw: [M, 3K-1]
 * network outputs in the layout above. Returns the outputs and the elementwise log|dout/dz|.
 */
export const rqSpline = (
  z: tf.Tensor1D,
  raw: tf.Tensor2D,
  k: number,
  bound: number,
  inverse: boolean,
): { out: tf.Tensor1D; logDet: tf.Tensor1D } => {
  const m = z.shape[0];
  const [uw, uh, ud] = tf.split(raw, [k, k, k - 1], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  const xs = binsOf(uw, k, bound);
  const ys = binsOf(uh, k, bound);
  const interior = tf.add(tf.softplus(tf.add(ud, DERIVATIVE_SHIFT)), MIN_DERIVATIVE);
  const derivs = tf.concat([tf.ones([m, 1]), interior, tf.ones([m, 1])], 1) as tf.Tensor2D;

  const zc = tf.clipByValue(z, -bound, bound) as tf.Tensor1D;
  const oneHot = binOneHot(zc, inverse ? ys.knots : xs.knots, k);
  const xk = pick(oneHot, tf.slice(xs.knots, [0, 0], [m, k]));
  const wk = pick(oneHot, xs.sizes);
  const yk = pick(oneHot, tf.slice(ys.knots, [0, 0], [m, k]));
  const hk = pick(oneHot, ys.sizes);
  const dk = pick(oneHot, tf.slice(derivs, [0, 0], [m, k]));
  const dk1 = pick(oneHot, tf.slice(derivs, [0, 1], [m, k]));
  const s = tf.div(hk, wk);
  const dSum = tf.sub(tf.add(dk, dk1), tf.mul(2, s)); // d_k + d_{k+1} - 2 s_k

  const xi = inverse ? inverseXi(tf.sub(zc, yk), hk, s, dk, dSum) : tf.clipByValue(tf.div(tf.sub(zc, xk), wk), 0, 1);
  const xi1 = tf.sub(1, xi);
  const t = tf.mul(xi, xi1); // xi (1 - xi)
  const denom = tf.add(s, tf.mul(dSum, t));
  const splineOut = (
    inverse ? tf.add(xk, tf.mul(xi, wk)) : tf.add(yk, tf.div(tf.mul(hk, tf.add(tf.mul(s, tf.square(xi)), tf.mul(dk, t))), denom))
  ) as tf.Tensor1D;
  // log dy/dx = 2 log s + log(d_{k+1} xi^2 + 2 s xi (1-xi) + d_k (1-xi)^2) - 2 log denom
  const inner = tf.add(tf.add(tf.mul(dk1, tf.square(xi)), tf.mul(tf.mul(2, s), t)), tf.mul(dk, tf.square(xi1)));
  const logDeriv = tf.sub(tf.add(tf.mul(2, tf.log(s)), tf.log(inner)), tf.mul(2, tf.log(denom))) as tf.Tensor1D;
  return {
    out: selectInside(z, bound, splineOut, z),
    logDet: selectInside(z, bound, inverse ? (tf.neg(logDeriv) as tf.Tensor1D) : logDeriv, tf.zerosLike(z)),
  };
};

/** The spline on every element of z, each with its own 3K-1 network outputs. */
const apply = (spec: SplineFields, z: tf.Tensor, raw: tf.Tensor, inverse: boolean): { out: tf.Tensor; logDet: tf.Tensor1D } =>
  tf.tidy(() => {
    const k = spec.bins;
    const { out, logDet } = rqSpline(tf.reshape(z, [-1]), tf.reshape(raw, [-1, 3 * k - 1]), k, spec.bound, inverse);
    return { out: tf.reshape(out, z.shape), logDet: sumPerSample(tf.reshape(logDet, z.shape)) };
  });

export const splineTransformer: Transformer<SplineFields> = {
  // Per element: K widths, K heights and K-1 derivatives.
  valuesPerElement: (spec) => 3 * spec.bins - 1,
  forward: (spec, x, raw) => apply(spec, x, raw, false),
  inverse: (spec, y, raw) => apply(spec, y, raw, true),
  checks: (spec, path) => [
    ...(isDim(spec.bins) ? [] : [{ path: `${path}.bins`, message: `expected a positive integer, got ${spec.bins}` }]),
    ...(spec.bound > 0 ? [] : [{ path: `${path}.bound`, message: `expected a positive bound, got ${spec.bound}` }]),
  ],
};
