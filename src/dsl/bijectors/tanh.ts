/**
 * Elementwise tanh, for supports in (-1, 1) (a sigmoid-style squashing, e.g. before a `scaleShift`
 * onto (a, b)), on events of any rank:
 *   y = tanh(x),   log|dy/dx| = log(1 - tanh(x)^2) = 2 (log 2 - x - softplus(-2x))   (stable for large |x|);
 *   inverse x = atanh(y) = (log1p(y) - log1p(-y)) / 2,   log|dx/dy| = -log1p(y) - log1p(-y).
 * Domain: all reals; image: (-1, 1) (an interval (a, b) maps onto (tanh a, tanh b)). No parameters.
 * float32 keeps about 7 digits of 1 - |y|, so round trips lose accuracy for |x| beyond ~5.
 */
import * as tf from '@tensorflow/tfjs';
import type * as t from 'io-ts';
import { sumPerSample } from '../../layers/ops.js';
import { built } from '../build.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { defineBijector, noParams, real, shapePreserving, unary, interval } from '../definition.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('tanh', { shape: shapeCodec() });
export type TanhSpec = t.TypeOf<typeof codec>;

export const tanh = <const S extends Shape>(shape: S): Bijector<S, S> => built({ kind: 'tanh', shape });

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
  forward: unary((_spec, _p, x) =>
    tf.tidy(() => ({
      out: tf.tanh(x),
      logDet: sumPerSample(tf.mul(2, tf.sub(tf.sub(Math.LN2, x), tf.softplus(tf.mul(-2, x))))),
    })),
  ),
  inverse: unary((_spec, _p, y) =>
    tf.tidy(() => {
      const a = tf.log1p(y);
      const b = tf.log1p(tf.neg(y));
      return { out: tf.mul(0.5, tf.sub(a, b)), logDet: tf.neg(sumPerSample(tf.add(a, b))) };
    }),
  ),
  inverseCost: 'analytic',
});
