/**
 * The standard normal's log-density, the base of every flow here: the constant once, and the
 * per-sample log-density written on the op algebra for every engine that builds it from ops.
 */
import type { Ops } from './ops.js';

/** log(2 pi): a D-dimensional normal's log-density has -D log(2 pi) / 2. */
export const LOG_2PI = Math.log(2 * Math.PI);

/** log sqrt(2 pi): log N(z; 0, 1) = -z^2 / 2 - HALF_LOG_2PI. */
export const HALF_LOG_2PI = 0.5 * LOG_2PI;

/**
 * log N(z; 0, I) per sample ([N]) of the tensors `zs` together ([N, ...] each, `size` elements per
 * sample in all), plus `constant`: -0.5 sum z^2 - size log(2 pi) / 2 + constant. The constants are
 * summed in float64 and added once (a diagonal normal passes -sum(log std) as `constant`).
 */
export const standardNormalLogProb = <T>(o: Ops<T>, zs: readonly T[], size: number, constant = 0): T => {
  const squares = zs.map((z) => o.sumEvent(o.square(z)));
  const first = squares[0];
  if (first === undefined) throw new TypeError('standardNormalLogProb: expected at least one tensor');
  const sum = squares.slice(1).reduce((acc, s) => o.add(acc, s), first);
  return o.add(o.mul(sum, o.scalar(-0.5)), o.scalar(constant - size * HALF_LOG_2PI));
};
