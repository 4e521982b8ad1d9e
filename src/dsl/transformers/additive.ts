/**
 * The additive transformer (NICE): per element, from the network output t, y = x + t; log|dy/dx| = 0
 * (volume preserving); inverse x = y - t. A zero output gives the identity.
 */
import * as tf from '@tensorflow/tfjs';
import { zeroLogDet } from '../maths/common.js';
import type { Transformer } from '../maths/coupling.js';

export const additiveTransformer: Transformer<unknown> = {
  valuesPerElement: () => 1,
  forward: (_spec, x, t) => ({ out: tf.add(x, t), logDet: zeroLogDet(x.shape[0] as number) }),
  inverse: (_spec, y, t) => ({ out: tf.sub(y, t), logDet: zeroLogDet(y.shape[0] as number) }),
  checks: () => [],
};
