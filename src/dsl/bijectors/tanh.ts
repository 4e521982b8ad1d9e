/**
 * Elementwise tanh, for supports in (-1, 1) (a sigmoid-style squashing, e.g. before a `scaleShift`
 * onto (a, b)), on events of any rank:
 *   y = tanh(x),   log|dy/dx| = log(1 - tanh(x)^2) = 2 (log 2 - x - softplus(-2x))   (stable for large |x|);
 *   inverse x = atanh(y) = (log1p(y) - log1p(-y)) / 2,   log|dx/dy| = -log1p(y) - log1p(-y).
 * Domain: all reals; image: (-1, 1) (an interval (a, b) maps onto (tanh a, tanh b)). No parameters.
 * float32 keeps about 7 digits of 1 - |y|, so round trips lose accuracy for |x| beyond ~5.
 */
import type * as t from 'io-ts';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { primitive } from '../primitive.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { defineBijector, noParams, real, shapePreserving, interval } from '../definition.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('tanh', { shape: shapeCodec() });
/** The JSON spec of a `tanh` node: its event shape. */
export type TanhSpec = t.TypeOf<typeof codec>;

/** Elementwise y = tanh(x) on events of `shape` (onto (-1, 1)); no parameters. */
export const tanh = <const S extends Shape>(shape: S): Bijector<S, S> => primitive(tanhDefinition, { kind: 'tanh', shape });

/** The `tanh` kind. */
export const tanhDefinition = defineBijector<TanhSpec>({
  kind: 'tanh',
  codec,
  ranks: 'any',
  signature: shapePreserving(),
  domain: {
    input: (_spec, [out = real]) => [out.kind !== 'interval' ? real : interval(Math.atanh(Math.max(-1, out.low)), Math.atanh(Math.min(1, out.high)))],
    image: (_spec, [input = real]) => [input.kind !== 'interval' ? interval(-1, 1) : interval(Math.tanh(input.low), Math.tanh(input.high))],
  },
  params: noParams,
  ...algebraic<TanhSpec>({
    forward: unaryAlgebra((o, _spec, _p, x) => ({
      out: o.tanh(x),
      logDet: o.sumEvent(o.mul(o.scalar(2), o.sub(o.sub(o.scalar(Math.LN2), x), o.softplus(o.mul(o.scalar(-2), x))))),
    })),
    inverse: unaryAlgebra((o, _spec, _p, y) => {
      const a = o.log1p(y);
      const b = o.log1p(o.neg(y));
      return { out: o.mul(o.scalar(0.5), o.sub(a, b)), logDet: o.neg(o.sumEvent(o.add(a, b))) };
    }),
  }),
  inverseCost: 'analytic',
});
