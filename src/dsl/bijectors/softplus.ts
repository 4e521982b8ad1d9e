/**
 * Elementwise softplus, for positive supports, on events of any rank:
 *   y = softplus(x) = log(1 + e^x),   log|dy/dx| = log sigmoid(x) = -softplus(-x);
 *   inverse x = log(e^y - 1) = y + log(-expm1(-y)),   log|dx/dy| = -log(-expm1(-y)) = softplus(-x).
 * Domain: all reals; image: (0, inf) (an interval (a, b) maps onto (softplus(a), softplus(b))).
 * No parameters. Gentler than `exp` for large x (y ~ x, slope ~ 1).
 */
import type * as t from 'io-ts';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { primitive } from '../primitive.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { defineBijector, noParams, real, shapePreserving, interval } from '../definition.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('softplus', { shape: shapeCodec() });
/** The JSON spec of a `softplus` node: its event shape. */
export type SoftplusSpec = t.TypeOf<typeof codec>;

/** Elementwise y = log(1 + e^x) on events of `shape` (onto positive values); no parameters. */
export const softplus = <const S extends Shape>(shape: S): Bijector<S, S> => primitive(softplusDefinition, { kind: 'softplus', shape });

const softplusOf = (x: number): number => (x > 30 ? x : Math.log1p(Math.exp(x)));
const inverseOf = (y: number): number => (y <= 0 ? -Infinity : y > 30 ? y : Math.log(Math.expm1(y)));

/** The `softplus` kind. */
export const softplusDefinition = defineBijector<SoftplusSpec>({
  kind: 'softplus',
  codec,
  ranks: 'any',
  signature: shapePreserving(),
  domain: {
    input: (_spec, [out = real]) => [out.kind !== 'interval' ? real : interval(inverseOf(out.low), inverseOf(out.high))],
    image: (_spec, [input = real]) => [input.kind !== 'interval' ? interval(0, Infinity) : interval(softplusOf(input.low), softplusOf(input.high))],
  },
  params: noParams,
  ...algebraic<SoftplusSpec>({
    forward: unaryAlgebra((o, _spec, _p, x) => ({ out: o.softplus(x), logDet: o.neg(o.sumEvent(o.softplus(o.neg(x)))) })),
    inverse: unaryAlgebra((o, _spec, _p, y) => {
      const logOneMinus = o.log(o.neg(o.expm1(o.neg(y)))); // log(1 - e^-y)
      return { out: o.add(y, logOneMinus), logDet: o.neg(o.sumEvent(logOneMinus)) };
    }),
  }),
  inverseCost: 'analytic',
});
