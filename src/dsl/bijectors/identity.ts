/** The identity on an event of any rank: y = x, log|det J| = 0 (a placeholder branch, e.g. in factorOut). */
import * as tf from '@tensorflow/tfjs';
import type * as t from 'io-ts';
import { built } from '../build.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { defineBijector, movesElements, noParams, shapePreserving, unary } from '../definition.js';
import { zeroLogDet } from '../maths/common.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('identity', { shape: shapeCodec() });
export type IdentitySpec = t.TypeOf<typeof codec>;

export const identity = <const S extends Shape>(shape: S): Bijector<S, S> => built({ kind: 'identity', shape });

export const identityDefinition = defineBijector<IdentitySpec>({
  kind: 'identity',
  codec,
  ranks: 'any',
  signature: shapePreserving(),
  domain: movesElements,
  params: noParams,
  forward: unary((_spec, _p, x) => ({ out: tf.clone(x), logDet: zeroLogDet(x.shape[0] as number) })),
  inverse: unary((_spec, _p, y) => ({ out: tf.clone(y), logDet: zeroLogDet(y.shape[0] as number) })),
  inverseCost: 'analytic',
});
