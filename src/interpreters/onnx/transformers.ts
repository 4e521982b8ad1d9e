/**
 * The elementwise transformers of src/dsl/transformers as ONNX nodes: z (the elements to transform,
 * channels-last) and raw (the network's output, valuesPerElement values per element) give the
 * transformed values and their per-sample log|det| ([N]). Same formulas as the tfjs ones.
 */
import type { Graph } from './graph.js';
import { noLogDet, tensorLogDet, type LogDet } from './logdet.js';
import { add, exp, mul, neg, scale, sub, sumPerSample } from './ops.js';
import { rqSpline } from './spline.js';

export interface Transformed {
  readonly out: string;
  readonly logDet: LogDet;
}

export type TransformerLowering = (g: Graph, z: string, raw: string, inverse: boolean) => Transformed;

/** s = clamp (2/pi) atan(s_raw); y = x exp(s) + t, log|det| = sum s; inverse (y - t) exp(-s). */
export const affine =
  (clamp: number): TransformerLowering =>
  (g, z, raw, inverse) => {
    // The first half of the channels is s_raw, the second t (an equal split, as tf.split(raw, 2)).
    const [sRaw, t] = g.nodeN('Split', [raw], 2, { axis: -1 }) as [string, string];
    const s = scale(g, g.op('Atan', [sRaw]), (2 * clamp) / Math.PI);
    const logDet = sumPerSample(g, s);
    return inverse
      ? { out: mul(g, sub(g, z, t), exp(g, neg(g, s))), logDet: tensorLogDet(neg(g, logDet)) }
      : { out: add(g, mul(g, z, exp(g, s)), t), logDet: tensorLogDet(logDet) };
  };

/** y = x + t, log|det| = 0. */
export const additive: TransformerLowering = (g, z, t, inverse) => ({ out: inverse ? sub(g, z, t) : add(g, z, t), logDet: noLogDet });

/** The rational-quadratic spline with K bins on [-B, B] and identity tails. */
export const spline =
  (bins: number, bound: number): TransformerLowering =>
  (g, z, raw, inverse) => {
    const flatZ = g.op('Reshape', [z, g.ints([-1])]);
    const flatRaw = g.op('Reshape', [raw, g.ints([-1, 3 * bins - 1])]);
    const { out, logDet } = rqSpline(g, flatZ, flatRaw, bins, bound, inverse);
    const zShape = g.op('Shape', [z]);
    return { out: g.op('Reshape', [out, zShape]), logDet: tensorLogDet(sumPerSample(g, g.op('Reshape', [logDet, zShape]))) };
  };
