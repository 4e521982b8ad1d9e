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
import { primitive } from '../primitive.js';
import { nodeCodec, num, shapeCodec } from '../codec-parts.js';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { param, type Ops, type ValueTree } from '../../algebra/ops.js';
import { defineBijector, ontoReals, shapePreserving, type Domain, interval } from '../definition.js';
import type { ParamRecord, ShapeRecord } from '../params.js';
import { sizeOf, spatialOf, type Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('scaleShift', { shape: shapeCodec(), scale: num, shift: num, learnable: t.boolean });
/** The JSON spec of a `scaleShift` node: event shape, scale, shift and whether they are trained. */
export type ScaleShiftSpec = t.TypeOf<typeof codec>;

/** Options of `scaleShift`. */
export interface ScaleShiftOptions {
  /** Default 1; non-zero. */
  readonly scale?: number;
  /** Default 0. */
  readonly shift?: number;
  /** Per-channel trainable scale and shift, initialised to `scale` and `shift` (default false: fixed). */
  readonly learnable?: boolean;
}

/** y = scale * x + shift on events of `shape`: fixed scalars, or per-channel trained ones when `learnable`. */
export const scaleShift = <const S extends Shape>(shape: S, options: ScaleShiftOptions = {}): Bijector<S, S> =>
  primitive(scaleShiftDefinition, { kind: 'scaleShift', shape, scale: options.scale ?? 1, shift: options.shift ?? 0, learnable: options.learnable ?? false });

/** The interval between two ends in either order (a negative scale swaps them). */
const between = (a: number, b: number): Domain => interval(Math.min(a, b), Math.max(a, b));

const positions = ({ shape }: ScaleShiftSpec): number => sizeOf(spatialOf(shape));

/** The multiplier (a scalar or per-channel value), the shift and the log|det| per sample of a batch like `x`. */
const scaleOf = <T>(o: Ops<T>, spec: ScaleShiftSpec, p: ValueTree<T>, x: T): { scale: T; shift: T; logDet: T } => {
  if (!spec.learnable) return { scale: o.scalar(spec.scale), shift: o.scalar(spec.shift), logDet: o.perSample(x, o.scalar(sizeOf(spec.shape) * Math.log(Math.abs(spec.scale)))) };
  const logScale = param(o, p, 'logScale');
  return {
    scale: o.mul(o.scalar(Math.sign(spec.scale)), o.exp(logScale)),
    shift: param(o, p, 'shift'),
    logDet: o.perSample(x, o.mul(o.sumAll(logScale), o.scalar(positions(spec)))),
  };
};

/** The `scaleShift` kind: no parameters when fixed; logScale and shift per channel when learnable. */
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
  ...algebraic<ScaleShiftSpec>({
    forward: unaryAlgebra((o, spec, p, x) => {
      const { scale, shift, logDet } = scaleOf(o, spec, p, x);
      return { out: o.add(o.mul(x, scale), shift), logDet };
    }),
    inverse: unaryAlgebra((o, spec, p, y) => {
      const { scale, shift, logDet } = scaleOf(o, spec, p, y);
      return { out: o.div(o.sub(y, shift), scale), logDet: o.neg(logDet) };
    }),
  }),
  inverseCost: 'analytic',
});
