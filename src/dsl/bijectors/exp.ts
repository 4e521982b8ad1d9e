/**
 * Elementwise exponential, for positive supports, on events of any rank:
 *   y = exp(x),   log|det J| = sum(x);   inverse x = log(y),   log|det dx/dy| = -sum(log y).
 * Domain: all reals; image: (0, inf). No parameters.
 */
import * as tf from '@tensorflow/tfjs';
import type * as t from 'io-ts';
import { sumPerSample } from '../../layers/ops.js';
import { built } from '../build.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { defineBijector, noParams, real, shapePreserving, unary, interval } from '../definition.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('exp', { shape: shapeCodec() });
export type ExpSpec = t.TypeOf<typeof codec>;

export const exp = <const S extends Shape>(shape: S): Bijector<S, S> => built({ kind: 'exp', shape });

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
  forward: unary((_spec, _p, x) => ({ out: tf.exp(x), logDet: sumPerSample(x) })),
  inverse: unary((_spec, _p, y) => {
    const x = tf.log(y);
    return { out: x, logDet: tf.neg(sumPerSample(x)) };
  }),
  inverseCost: 'analytic',
});
