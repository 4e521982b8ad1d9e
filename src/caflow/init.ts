/**
 * Initialisation of all of CAFLOW's flows from one batch: R from Y, T from W, then each G_i from its
 * own input L_i and conditioning, so every ActNorm in the model is data-initialised (docs/caflow.md §3).
 */
import * as tf from '@tensorflow/tfjs';
import { init } from '../interpreters/init.js';
import { spaceToDepth } from '../dsl/bijectors/squeeze.js';
import { forward } from '../interpreters/transform.js';
import { conditioningFor } from './maths.js';
import { priorOf, type CaflowSpec } from './model.js';
import type { CaflowParams } from './params.js';

/** Parameters of every flow of a CAFLOW model, data-initialised from one batch of targets `w` and conditions `y` (NHWC). */
export const initCaflow = (m: CaflowSpec, options: { readonly seed?: number; readonly w: tf.Tensor4D; readonly y: tf.Tensor4D }): CaflowParams => {
  const seed = options.seed ?? 0;
  const R = init(m.encoderY, { seed, data: [options.y] });
  const T = init(m.encoderW, { seed: seed + 1, data: [options.w] });
  const G = tf.tidy(() => {
    const D = forward(m.encoderY, R)([options.y]).ys as tf.Tensor4D[];
    const L = forward(m.encoderW, T)([options.w]).ys as tf.Tensor4D[];
    const sqD = D.map(spaceToDepth);
    const sqL = L.map(spaceToDepth);
    return m.priors.map((_, i) =>
      init(priorOf(m, i), { seed: seed + 2 + i, data: [L[i] as tf.Tensor4D], ctx: conditioningFor(m, i, sqL, sqD) }),
    ) as tf.TensorContainer;
  }) as CaflowParams['G'];
  return { R, T, G };
};
