/**
 * The affine transformer with CAFLOW's soft clamp: per element, from network outputs (s_raw, t),
 *   s = clamp * (2/pi) * atan(s_raw)   (so |s| < clamp),   y = x * exp(s) + t,
 *   log|dy/dx| = s;   inverse x = (y - t) * exp(-s).
 * Network output channels: the first c are s_raw, the last c are t. Zero outputs give the identity.
 */
import * as tf from '@tensorflow/tfjs';
import { sumPerSample } from '../../layers/ops.js';
import type { Transformer } from '../maths/coupling.js';
import { softClamp } from '../maths/conditioning.js';

/** exp(2 * 44) = 1.6e38 is below float32's largest value, 3.4e38: a scale, and its square, stay finite. */
export const MAX_CLAMP = 44;

export interface AffineFields {
  /** Bound on |s|; CAFLOW uses 2. */
  readonly clamp: number;
}

const scaleAndShift = (spec: AffineFields, raw: tf.Tensor): [tf.Tensor, tf.Tensor] => {
  const [sRaw, t] = tf.split(raw, 2, raw.rank - 1) as [tf.Tensor, tf.Tensor];
  return [softClamp(sRaw, spec.clamp), t];
};

export const affineTransformer: Transformer<AffineFields> = {
  valuesPerElement: () => 2,
  forward: (spec, x, raw) => {
    const [s, t] = scaleAndShift(spec, raw);
    return { out: tf.add(tf.mul(x, tf.exp(s)), t), logDet: sumPerSample(s) };
  },
  inverse: (spec, y, raw) => {
    const [s, t] = scaleAndShift(spec, raw);
    return { out: tf.mul(tf.sub(y, t), tf.exp(tf.neg(s))), logDet: tf.neg(sumPerSample(s)) };
  },
  checks: (spec, path) =>
    !(spec.clamp > 0)
      ? [{ path: `${path}.clamp`, message: `expected a positive clamp, got ${spec.clamp}` }]
      : spec.clamp > MAX_CLAMP
        ? [{ path: `${path}.clamp`, message: `a clamp of ${spec.clamp} overflows float32: scales up to exp(clamp) and their squares (in gradients) must stay finite, so clamp <= ${MAX_CLAMP}` }]
        : [],
};
