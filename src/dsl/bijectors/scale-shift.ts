/**
 * Elementwise scale and shift, for constrained supports (e.g. tanh's (-1, 1) onto (a, b) with
 * scale (b - a)/2, shift (a + b)/2), on events of any rank.
 * Fixed (`learnable: false`): y = scale * x + shift with the spec's scalars (scale != 0);
 *   log|det J| = D * log|scale| (D = elements per event); inverse x = (y - shift) / scale.
 *   Domain: all reals onto all reals; an interval maps onto its affine image (flipped for scale < 0).
 * Learnable (`learnable: true`): per channel c, y = sign(scale) * exp(logScale_c) * x + shift_c, with
 *   logScale = log|scale| and shift = the spec's shift at init; log|det J| = positions * sum(logScale);
 *   the sign is the spec's, so the map can never become singular. Domain all reals onto all reals; an
 *   interval maps onto a parameter-dependent subset.
 * Conditioning: a scale and shift computed from context vectors is `conditionalAffine` with
 * `net: mlp(...)`.
 */
import * as tf from '@tensorflow/tfjs';
import * as t from 'io-ts';
import { built } from '../build.js';
import { nodeCodec, num, shapeCodec } from '../codec-parts.js';
import { defineBijector, ontoReals, shapePreserving, unary, type Domain, interval } from '../definition.js';
import { param, perSample } from '../maths/common.js';
import type { ParamRecord, ShapeRecord } from '../params.js';
import { sizeOf, spatialOf, type Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('scaleShift', { shape: shapeCodec(), scale: num, shift: num, learnable: t.boolean });
export type ScaleShiftSpec = t.TypeOf<typeof codec>;

export interface ScaleShiftOptions {
  /** Default 1; non-zero. */
  readonly scale?: number;
  /** Default 0. */
  readonly shift?: number;
  /** Per-channel trainable scale and shift, initialised to `scale` and `shift` (default false: fixed). */
  readonly learnable?: boolean;
}

export const scaleShift = <const S extends Shape>(shape: S, options: ScaleShiftOptions = {}): Bijector<S, S> =>
  built({ kind: 'scaleShift', shape, scale: options.scale ?? 1, shift: options.shift ?? 0, learnable: options.learnable ?? false });

/** The interval between two ends in either order (a negative scale swaps them). */
const between = (a: number, b: number): Domain => interval(Math.min(a, b), Math.max(a, b));

const positions = ({ shape }: ScaleShiftSpec): number => sizeOf(spatialOf(shape));

/** The multiplier (a scalar or per-channel tensor) and the log|det| per sample. */
const scaleOf = (spec: ScaleShiftSpec, p: ParamRecord, batch: number): { scale: tf.Tensor | number; shift: tf.Tensor | number; logDet: tf.Tensor1D } => {
  if (!spec.learnable) return { scale: spec.scale, shift: spec.shift, logDet: perSample(batch, sizeOf(spec.shape) * Math.log(Math.abs(spec.scale))) };
  const logScale = param(p, 'logScale');
  return {
    scale: tf.mul(Math.sign(spec.scale), tf.exp(logScale)),
    shift: param(p, 'shift'),
    logDet: perSample(batch, tf.mul(tf.sum(logScale), positions(spec))),
  };
};

export const scaleShiftDefinition = defineBijector<ScaleShiftSpec>({
  kind: 'scaleShift',
  codec,
  ranks: 'any',
  signature: shapePreserving(undefined, (spec, path) => (spec.scale !== 0 ? [] : [{ path: `${path}.scale`, message: 'expected a non-zero scale, got 0' }])),
  domain: {
    input: (spec, outs) =>
      spec.learnable
        ? ontoReals.input(spec, outs)
        : outs.map((d) => (d.kind === 'interval' ? between((d.low - spec.shift) / spec.scale, (d.high - spec.shift) / spec.scale) : d)),
    image: (spec, ins) =>
      spec.learnable
        ? ontoReals.image(spec, ins)
        : ins.map((d) => (d.kind === 'interval' ? between(spec.scale * d.low + spec.shift, spec.scale * d.high + spec.shift) : d)),
  },
  params: {
    shapes: (spec): ShapeRecord => (spec.learnable ? { logScale: [spec.shape[0] as number], shift: [spec.shape[0] as number] } : {}),
    init: (spec): ParamRecord =>
      spec.learnable
        ? { logScale: tf.fill([spec.shape[0] as number], Math.log(Math.abs(spec.scale))), shift: tf.fill([spec.shape[0] as number], spec.shift) }
        : {},
    frozen: [],
    mixing: [],
  },
  forward: unary((spec, p, x) =>
    tf.tidy(() => {
      const { scale, shift, logDet } = scaleOf(spec, p, x.shape[0] as number);
      return { out: tf.add(tf.mul(x, scale), shift), logDet };
    }),
  ),
  inverse: unary((spec, p, y) =>
    tf.tidy(() => {
      const { scale, shift, logDet } = scaleOf(spec, p, y.shape[0] as number);
      return { out: tf.div(tf.sub(y, shift), scale), logDet: tf.neg(logDet) };
    }),
  ),
  inverseCost: 'analytic',
});
