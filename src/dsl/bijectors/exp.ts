/**
 * Elementwise exponential, for positive supports, on events of any rank:
 *   y = exp(x),   log|det J| = sum(x);   inverse x = log(y),   log|det dx/dy| = -sum(log y).
 * Domain: all reals; image: (0, inf). No parameters.
 */
import type * as t from 'io-ts';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { primitive } from '../primitive.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { defineBijector, noParams, real, shapePreserving, interval } from '../definition.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('exp', { shape: shapeCodec() });
/** The JSON spec of an `exp` node: its event shape. */
export type ExpSpec = t.TypeOf<typeof codec>;

/** Elementwise y = exp(x) on events of `shape` (onto positive values); no parameters. */
export const exp = <const S extends Shape>(shape: S): Bijector<S, S> => primitive(expDefinition, { kind: 'exp', shape });

/** The `exp` kind, written on the op algebra. */
export const expDefinition = defineBijector<ExpSpec>({
  kind: 'exp',
  codec,
  ranks: 'any',
  signature: shapePreserving(),
  domain: {
    input: (_spec, [out = real]) => [out.kind !== 'interval' ? real : interval(Math.log(Math.max(out.low, 0)), Math.log(out.high))],
    image: (_spec, [input = real]) => [input.kind !== 'interval' ? interval(0, Infinity) : interval(Math.exp(input.low), Math.exp(input.high))],
  },
  params: noParams,
  ...algebraic<ExpSpec>({
    forward: unaryAlgebra((o, _spec, _p, x) => ({ out: o.exp(x), logDet: o.sumEvent(x) })),
    inverse: unaryAlgebra((o, _spec, _p, y) => {
      const x = o.log(y);
      return { out: x, logDet: o.neg(o.sumEvent(x)) };
    }),
  }),
  inverseCost: 'analytic',
});
