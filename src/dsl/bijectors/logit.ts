/**
 * Logit preprocessing for q-level data (Dinh et al. 2017), after dequantisation x = k + u, u in [0,1):
 *   p = alpha/2 + (1 - alpha) x / q,   y = logit(p) = log p - log(1 - p)
 * (for alpha >= 1/2, from u = 2p - 1 as log1p(u) - log1p(-u): see NEAR_HALF_ALPHA).
 * log|det J| = sum over elements of [-log q + log(1 - alpha) - log p - log(1 - p)].
 * Inverse: x = q (sigmoid(y) - alpha/2) / (1 - alpha), computed as q (tanh(y/2)/2 + (1 - alpha)/2) / (1 - alpha)
 * (no cancellation near p = 1/2), with log p = -softplus(-y) and log(1-p) = -softplus(y), which stay
 * finite for large |y|; `quantize` rounds it back to integers.
 * Domain (0, q); image (logit(alpha/2), logit(1 - alpha/2)). `sigmoid` is the same bijector inverted.
 * Any rank.
 */
import type * as t from 'io-ts';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import type { Ops } from '../../algebra/ops.js';
import { inverted, primitive } from '../primitive.js';
import { nodeCodec, num, shapeCodec } from '../codec-parts.js';
import { defineBijector, noParams, real, shapePreserving, interval } from '../definition.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('logit', { shape: shapeCodec(), alpha: num, levels: num });
/** The JSON spec of a `logit` node: event shape, alpha and the number of levels q. */
export type LogitSpec = t.TypeOf<typeof codec>;

/** Options of `logit` and `sigmoid`. */
export interface LogitOptions {
  /** Keeps p away from 0 and 1 (default 1e-5, as in CAFLOW). */
  readonly alpha?: number;
  /** Number of levels q of the data (default 256 for 8-bit images). */
  readonly levels?: number;
}

/** Logit preprocessing on events of `shape`: dequantised q-level data in (0, q) onto the reals; no parameters. */
export const logit = <const S extends Shape>(shape: S, options: LogitOptions = {}): Bijector<S, S> =>
  primitive(logitDefinition, { kind: 'logit', shape, alpha: options.alpha ?? 1e-5, levels: options.levels ?? 256 });

/** The inverse of `logit`: the reals onto (0, q). */
export const sigmoid = <const S extends Shape>(shape: S, options: LogitOptions = {}): Bijector<S, S> => inverted(logit(shape, options));

/** The smallest normal float32: below it (and above its reciprocal for 1/q) values lose all precision. */
const FLOAT32_MIN_NORMAL = 1.1754944e-38;

/** Per-element log-det constant: -log q + log(1 - alpha). */
const constantTerm = ({ alpha, levels }: LogitSpec): number => -Math.log(levels) + Math.log1p(-alpha);

const logitOf = ({ alpha, levels }: LogitSpec, x: number): number => {
  const p = alpha / 2 + ((1 - alpha) * x) / levels;
  return Math.log(p) - Math.log1p(-p);
};
const sigmoidOf = ({ alpha, levels }: LogitSpec, y: number): number => (levels * (1 / (1 + Math.exp(-y)) - alpha / 2)) / (1 - alpha);

/**
 * From this alpha on, p lies in (alpha/2, 1 - alpha/2), within 1/4 of 1/2, where float32 keeps p (and
 * so x) only to 3e-8 in p, q 3e-8 / (1 - alpha) in x: 8e-3 at alpha 0.999 and q 256. There y is
 * computed from u = 2p - 1 = (1 - alpha)(2x/q - 1), which keeps x's digits, as
 * log((1 + u) / (1 - u)) = log1p(u) - log1p(-u) (no cancellation: the terms have opposite signs, and
 * |u| <= 1/2 keeps 1 +- u from rounding). Below it, the log p form loses at most a factor 2 and is kept
 * (CAFLOW's alpha 1e-5 computes exactly what it did).
 */
const NEAR_HALF_ALPHA = 0.5;

const logitNearHalf = <T>(o: Ops<T>, { alpha, levels }: LogitSpec, x: T): T => {
  const u = o.mul(o.sub(o.mul(x, o.scalar(2 / levels)), o.scalar(1)), o.scalar(1 - alpha));
  return o.sub(o.log1p(u), o.log1p(o.neg(u)));
};

/** The `logit` kind, written on the op algebra. */
export const logitDefinition = defineBijector<LogitSpec>({
  kind: 'logit',
  codec,
  ranks: 'any',
  signature: shapePreserving(undefined, (spec, path) => [
    ...(spec.alpha >= 0 && spec.alpha < 1 ? [] : [{ path: `${path}.alpha`, message: `expected 0 <= alpha < 1, got ${spec.alpha}` }]),
    ...(!(spec.levels > 0)
      ? [{ path: `${path}.levels`, message: `expected a positive number of levels, got ${spec.levels}` }]
      : spec.levels < FLOAT32_MIN_NORMAL || spec.levels > 1 / FLOAT32_MIN_NORMAL
        ? [{ path: `${path}.levels`, message: `${spec.levels} levels cannot be computed in float32: levels and 1/levels must be normal float32 numbers (between 1.2e-38 and 8.5e37)` }]
        : []),
  ]),
  domain: {
    // (0, q), narrowed to the preimage of what the outputs must lie in.
    input: (spec, [out = real]) => [
      out.kind !== 'interval' ? interval(0, spec.levels) : interval(Math.max(0, sigmoidOf(spec, out.low)), Math.min(spec.levels, sigmoidOf(spec, out.high))),
    ],
    image: (spec, [input = real]) => {
      const low = input.kind === 'interval' ? Math.max(0, input.low) : 0;
      const high = input.kind === 'interval' ? Math.min(spec.levels, input.high) : spec.levels;
      return [interval(logitOf(spec, low), logitOf(spec, high))];
    },
  },
  params: noParams,
  ...algebraic<LogitSpec>({
    forward: unaryAlgebra((o, spec, _p, x) => {
      const p = o.add(o.mul(x, o.scalar((1 - spec.alpha) / spec.levels)), o.scalar(spec.alpha / 2));
      const logP = o.log(p);
      const log1mP = o.log1p(o.neg(p));
      return { out: spec.alpha < NEAR_HALF_ALPHA ? o.sub(logP, log1mP) : logitNearHalf(o, spec, x), logDet: o.sumEvent(o.sub(o.sub(o.scalar(constantTerm(spec)), logP), log1mP)) };
    }),
    inverse: unaryAlgebra((o, spec, _p, y) => {
      const logP = o.logSigmoid(y);
      const log1mP = o.logSigmoid(o.neg(y));
      return {
        // sigmoid(y) - alpha/2 = tanh(y/2)/2 + (1 - alpha)/2: near p = 1/2 (all of (0, q) when alpha -> 1),
        // sigmoid(y) rounds to the nearest ulp of 1/2 before the subtraction, tanh(y/2) keeps its digits.
        // Below NEAR_HALF_ALPHA that costs x at most q ulp(1/2) (1.5e-5 for 8-bit data) and the sigmoid
        // form is kept, as in the forward pass, so CAFLOW's samples are what they were.
        out: o.mul(
          spec.alpha < NEAR_HALF_ALPHA
            ? o.sub(o.sigmoid(y), o.scalar(spec.alpha / 2))
            : o.add(o.mul(o.tanh(o.mul(y, o.scalar(0.5))), o.scalar(0.5)), o.scalar((1 - spec.alpha) / 2)),
          o.scalar(spec.levels / (1 - spec.alpha)),
        ),
        logDet: o.sumEvent(o.add(o.add(o.scalar(-constantTerm(spec)), logP), log1mP)),
      };
    }),
  }),
  inverseCost: 'analytic',
});
