/**
 * The rational-quadratic spline of src/dsl/transformers/spline.ts as ONNX nodes, step for step (the
 * maths and the numerical choices are explained there): bins from softmax with a minimum size, knots
 * by cumulative sum pinned to -B and B, interior derivatives softplus(u + c) + 1e-3, the bin found by
 * comparisons turned into a one-hot, the closed-form inverse in its cancellation-free form, and the
 * identity outside [-B, B].
 */
import { DERIVATIVE_SHIFT, MIN_BIN_SIZE, MIN_DERIVATIVE } from '../../dsl/transformers/spline.js';
import type { Graph } from './graph.js';
import { add, clip, columns, constantColumn, div, log, mul, neg, scale, shift, softplus, square, sub, sumRows, zerosLike } from './ops.js';

const concatColumns = (g: Graph, parts: readonly string[]): string => {
  const used = parts.filter((p) => p !== '');
  return used.length === 1 ? (used[0] as string) : g.op('Concat', used, { axis: 1 });
};

/** Knots [M, K+1] and sizes [M, K] of one axis from its unnormalised sizes u [M, K]. */
const binsOf = (g: Graph, u: string, k: number, bound: number, rows: string): { knots: string; sizes: string } => {
  const minBin = Math.min(MIN_BIN_SIZE, 0.5 / k);
  const frac = shift(g, scale(g, g.op('Softmax', [u], { axis: 1 }), 1 - minBin * k), minBin);
  const inner = k > 1 ? shift(g, scale(g, columns(g, g.op('CumSum', [frac, g.ints([1])]), 0, k - 1), 2 * bound), -bound) : '';
  const knots = concatColumns(g, [constantColumn(g, rows, -bound), inner, constantColumn(g, rows, bound)]);
  return { knots, sizes: sub(g, columns(g, knots, 1, k + 1), columns(g, knots, 0, k)) };
};

/** One-hot [M, K] of the bin of zc among the knots: ones up to the last interior knot <= zc. */
const binOneHot = (g: Graph, zc: string, knots: string, k: number, rows: string): string => {
  if (k === 1) return constantColumn(g, rows, 1);
  const ge = g.op('Cast', [g.op('GreaterOrEqual', [g.op('Unsqueeze', [zc, g.ints([1])]), columns(g, knots, 1, k)])], { to: 1 });
  return sub(g, concatColumns(g, [constantColumn(g, rows, 1), ge]), concatColumns(g, [ge, constantColumn(g, rows, 0)]));
};

const pick = (g: Graph, oneHot: string, t: string): string => sumRows(g, mul(g, oneHot, t));

/** xi in [0, 1] from dy = y - y_k: the root of the quadratic, in whichever form has no cancellation. */
const inverseXi = (g: Graph, dy: string, hk: string, s: string, dk: string, dSum: string): string => {
  const a = add(g, mul(g, hk, sub(g, s, dk)), mul(g, dy, dSum));
  const b = sub(g, mul(g, hk, dk), mul(g, dy, dSum));
  const c = mul(g, neg(g, s), dy);
  const root = g.op('Sqrt', [g.op('Relu', [sub(g, square(g, b), scale(g, mul(g, a, c), 4))])]);
  const bNonNeg = g.op('GreaterOrEqual', [b, g.scalar(0)]);
  const one = g.scalar(1);
  const den1 = g.op('Where', [bNonNeg, sub(g, neg(g, b), root), one]);
  const den2 = g.op('Where', [bNonNeg, one, scale(g, a, 2)]);
  const xi = g.op('Where', [bNonNeg, div(g, scale(g, c, 2), den1), div(g, sub(g, root, b), den2)]);
  return clip(g, xi, 0, 1);
};

/** z [M] and raw [M, 3K-1] -> the spline's outputs [M] and elementwise log|dout/dz| [M]. */
export const rqSpline = (g: Graph, z: string, raw: string, k: number, bound: number, inverse: boolean): { out: string; logDet: string } => {
  const rows = g.op('Unsqueeze', [z, g.ints([1])]);
  const uw = columns(g, raw, 0, k);
  const uh = columns(g, raw, k, 2 * k);
  const xs = binsOf(g, uw, k, bound, rows);
  const ys = binsOf(g, uh, k, bound, rows);
  const interior = k > 1 ? shift(g, softplus(g, shift(g, columns(g, raw, 2 * k, 3 * k - 1), DERIVATIVE_SHIFT)), MIN_DERIVATIVE) : '';
  const derivs = concatColumns(g, [constantColumn(g, rows, 1), interior, constantColumn(g, rows, 1)]);

  const zc = clip(g, z, -bound, bound);
  const oneHot = binOneHot(g, zc, inverse ? ys.knots : xs.knots, k, rows);
  const xk = pick(g, oneHot, columns(g, xs.knots, 0, k));
  const wk = pick(g, oneHot, xs.sizes);
  const yk = pick(g, oneHot, columns(g, ys.knots, 0, k));
  const hk = pick(g, oneHot, ys.sizes);
  const dk = pick(g, oneHot, columns(g, derivs, 0, k));
  const dk1 = pick(g, oneHot, columns(g, derivs, 1, k + 1));
  const s = div(g, hk, wk);
  const dSum = sub(g, add(g, dk, dk1), scale(g, s, 2));

  const xi = inverse ? inverseXi(g, sub(g, zc, yk), hk, s, dk, dSum) : clip(g, div(g, sub(g, zc, xk), wk), 0, 1);
  const xi1 = g.op('Sub', [g.scalar(1), xi]);
  const t = mul(g, xi, xi1);
  const denom = add(g, s, mul(g, dSum, t));
  const splineOut = inverse ? add(g, xk, mul(g, xi, wk)) : add(g, yk, div(g, mul(g, hk, add(g, mul(g, s, square(g, xi)), mul(g, dk, t))), denom));
  const inner = add(g, add(g, mul(g, dk1, square(g, xi)), mul(g, scale(g, s, 2), t)), mul(g, dk, square(g, xi1)));
  const logDeriv = sub(g, add(g, scale(g, log(g, s), 2), log(g, inner)), scale(g, log(g, denom), 2));
  const inside = g.op('And', [g.op('GreaterOrEqual', [z, g.scalar(-bound)]), g.op('GreaterOrEqual', [g.scalar(bound), z])]);
  const zeros = zerosLike(g, z);
  return {
    out: g.op('Where', [inside, splineOut, z]),
    logDet: g.op('Where', [inside, inverse ? neg(g, logDeriv) : logDeriv, zeros]),
  };
};
