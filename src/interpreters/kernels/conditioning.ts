/** How couplings and injectors see their inputs: channel splits and conditioning concatenation. */
import * as tf from '@tensorflow/tfjs';
import { ShapeMismatchError } from '../../dsl/errors.js';
import { formatShape, type CondShapes } from '../../dsl/shape.js';
import type { ConditionedSpec } from '../../dsl/spec.js';
import { convNetParamShapes, initConvNet } from '../../layers/convnet.js';
import type { Context, Kernel } from './kernel.js';

/** Channels of x1, the half a coupling leaves unchanged: the first floor(C/2). */
export const passThroughChannels = (c: number): number => Math.floor(c / 2);

/** x -> [x1, x2] on the channel axis, x1 having `passThroughChannels(C)` channels. */
export const splitHalves = (x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] => {
  const c = x.shape[3];
  const c1 = passThroughChannels(c);
  return tf.split(x, [c1, c - c1], 3) as [tf.Tensor4D, tf.Tensor4D];
};

/** The conditioning tensors a layer declared, in the spec's order, checked against their declared shapes. */
export const conditioningTensors = (cond: CondShapes, ctx: Context, batch: number): tf.Tensor4D[] =>
  Object.entries(cond).map(([name, [c, h, w]]) => {
    const t = ctx[name];
    if (t === undefined) {
      const given = Object.keys(ctx);
      throw new ShapeMismatchError(
        `missing conditioning input '${name}' (${formatShape([c, h, w])}); given: ${given.length > 0 ? given.join(', ') : 'none'}`,
      );
    }
    const want = [batch, h, w, c];
    if (t.rank !== 4 || t.shape.some((d, i) => d !== want[i])) {
      throw new ShapeMismatchError(
        `conditioning '${name}' has shape ${formatShape(t.shape)} but the layer expects ${formatShape(want)} (NHWC for event ${formatShape([c, h, w])})`,
      );
    }
    return t;
  });

/** Channels of the conditioning tensors together. */
export const conditioningChannels = (cond: CondShapes): number => Object.values(cond).reduce((n, s) => n + s[0], 0);

/**
 * Widths of a coupling's network: it reads [x1, cond...] and writes `perChannel` values for each of
 * the c2 = C - floor(C/2) channels of x2.
 */
export const couplingNetWidths = (c: number, cond: CondShapes, perChannel: number): { cIn: number; c2: number; cOut: number } => {
  const c2 = c - passThroughChannels(c);
  return { cIn: passThroughChannels(c) + conditioningChannels(cond), c2, cOut: perChannel * c2 };
};

/** The parameter shapes and initialisation of a coupling whose only parameters are its network `net`. */
export const couplingNetParams = <S extends ConditionedSpec>(
  perChannel: (spec: S) => number,
): Pick<Kernel<S>, 'paramShapes' | 'init'> => {
  const widths = (spec: S) => couplingNetWidths(spec.shape[0], spec.cond, perChannel(spec));
  return {
    paramShapes: (spec) => {
      const { cIn, cOut } = widths(spec);
      return { net: convNetParamShapes(spec.net, cIn, cOut) };
    },
    init: (spec, { nextSeed }) => {
      const { cIn, cOut } = widths(spec);
      return { net: initConvNet(spec.net, cIn, cOut, nextSeed) };
    },
  };
};

/** [x1, cond...] concatenated on channels: the network input of a coupling. */
export const networkInput = (x1: tf.Tensor4D | undefined, cond: CondShapes, ctx: Context, batch: number): tf.Tensor4D => {
  const parts = [...(x1 === undefined ? [] : [x1]), ...conditioningTensors(cond, ctx, batch)];
  return parts.length === 1 ? (parts[0] as tf.Tensor4D) : tf.concat(parts, 3);
};

/** CAFLOW's soft clamp: s = clamp * (2/pi) * atan(s_raw), so |s| < clamp. */
export const softClamp = (sRaw: tf.Tensor, clamp: number): tf.Tensor => tf.mul(tf.atan(sRaw), (2 * clamp) / Math.PI);
