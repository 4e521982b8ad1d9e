import * as tf from '@tensorflow/tfjs';
import type { IdentitySpec } from '../../dsl/spec.js';
import { zeroLogDet } from './common.js';
import type { Kernel } from './kernel.js';

export const identityKernel: Kernel<IdentitySpec> = {
  paramShapes: () => ({}),
  init: () => ({}),
  forward: (_spec, _p, x) => ({ out: tf.clone(x), logDet: zeroLogDet(x.shape[0]) }),
  inverse: (_spec, _p, y) => ({ out: tf.clone(y), logDet: zeroLogDet(y.shape[0]) }),
};
