/**
 * Sinh-arcsinh (Jones and Pewsey 2009), in TensorFlow Probability's convention (tfb.SinhArcsinh),
 * elementwise on events of any rank, with skew s and tailweight w > 0:
 *   y = sinh(w * (asinh(x) + s)),   inverse x = sinh(asinh(y) / w - s).
 * s = 0, w = 1 is the identity; s > 0 skews to the right, w > 1 makes the tails heavier.
 * dy/dx = w cosh(w (asinh(x) + s)) / sqrt(1 + x^2) = w sqrt(1 + y^2) / sqrt(1 + x^2), so
 *   log|dy/dx| = log w + h(y) - h(x),   h(v) = log sqrt(1 + v^2) = log m + log1p((a/m)^2) / 2,
 * with m = max(1, |v|) and a = min(1, |v|): h never squares a large |v| (no overflow below float32's
 * largest value) and keeps log1p's digits near 0. The inverse's log-det is the negation.
 * Domain: all reals onto all reals (an interval maps onto its image: the map is increasing).
 *
 * As a transformer (`{ kind: 'sinhArcsinh' }`, in `coupling` and `autoregressive`): per element the
 * conditioner gives s and log w, in blocks ([s (c channels), log w (c channels)]); a zero output is
 * s = 0, w = 1, the identity.
 */
import type * as t from 'io-ts';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import type { Ops } from '../../algebra/ops.js';
import { nodeCodec, num, shapeCodec, strictObject, tag } from '../codec-parts.js';
import { defineBijector, noParams, real, shapePreserving, interval } from '../definition.js';
import { blocksOf, defineTransformer, type ElementwiseResult } from '../maths/elementwise.js';
import { primitive } from '../primitive.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('sinhArcsinh', { shape: shapeCodec(), skew: num, tailweight: num });
/** The JSON spec of a `sinhArcsinh` node: event shape, skew s and tailweight w. */
export type SinhArcsinhSpec = t.TypeOf<typeof codec>;

/** Options of `sinhArcsinh`. */
export interface SinhArcsinhOptions {
  /** s (default 0). */
  readonly skew?: number;
  /** w > 0 (default 1). */
  readonly tailweight?: number;
}

/** Elementwise y = sinh(w (asinh(x) + s)) on events of `shape`, with fixed skew s and tailweight w (defaults 0 and 1: the identity). */
export const sinhArcsinh = <const S extends Shape>(shape: S, options: SinhArcsinhOptions = {}): Bijector<S, S> =>
  primitive(sinhArcsinhDefinition, { kind: 'sinhArcsinh', shape, skew: options.skew ?? 0, tailweight: options.tailweight ?? 1 });

/** h(v) = log sqrt(1 + v^2), without overflow or cancellation. */
const halfLog1pSquare = <T>(o: Ops<T>, v: T): T => {
  const a = o.abs(v);
  const m = o.maximum(a, o.scalar(1));
  return o.add(o.log(m), o.mul(o.scalar(0.5), o.log1p(o.square(o.div(o.minimum(a, o.scalar(1)), m)))));
};

/** The map with skew s and log-tailweight log w (values, scalars or per element), in one direction. */
const sinhArcsinhOn = <T>(o: Ops<T>, z: T, skew: T, logTailweight: T, inverse: boolean): ElementwiseResult<T> => {
  const out = inverse ? o.sinh(o.sub(o.mul(o.asinh(z), o.exp(o.neg(logTailweight))), skew)) : o.sinh(o.mul(o.add(o.asinh(z), skew), o.exp(logTailweight)));
  const [x, y] = inverse ? [out, z] : [z, out];
  // log|dy/dx| per element; the elementwise form broadcasts a scalar log w over the elements.
  const logDeriv = o.sub(o.add(logTailweight, halfLog1pSquare(o, y)), halfLog1pSquare(o, x));
  const logDet = o.sumEvent(logDeriv);
  return { out, logDet: inverse ? o.neg(logDet) : logDet };
};

/** The standalone map's inverse, for domains. */
const inverseOf = ({ skew, tailweight }: SinhArcsinhSpec, y: number): number => Math.sinh(Math.asinh(y) / tailweight - skew);
const forwardOf = ({ skew, tailweight }: SinhArcsinhSpec, x: number): number => Math.sinh((Math.asinh(x) + skew) * tailweight);

/** The `sinhArcsinh` kind: no parameters (s and w are in the spec). */
export const sinhArcsinhDefinition = defineBijector<SinhArcsinhSpec>({
  kind: 'sinhArcsinh',
  codec,
  ranks: 'any',
  signature: shapePreserving(undefined, (spec, path) => [
    ...(Number.isFinite(spec.skew) ? [] : [{ path: `${path}.skew`, message: `expected a finite skew, got ${spec.skew}` }]),
    ...(spec.tailweight > 0 && Number.isFinite(spec.tailweight) ? [] : [{ path: `${path}.tailweight`, message: `expected a positive tailweight, got ${spec.tailweight}` }]),
  ]),
  domain: {
    input: (spec, [out = real]) => [out.kind !== 'interval' ? real : interval(inverseOf(spec, out.low), inverseOf(spec, out.high))],
    image: (spec, [input = real]) => [input.kind !== 'interval' ? real : interval(forwardOf(spec, input.low), forwardOf(spec, input.high))],
  },
  params: noParams,
  ...algebraic<SinhArcsinhSpec>({
    forward: unaryAlgebra((o, spec, _p, x) => sinhArcsinhOn(o, x, o.scalar(spec.skew), o.scalar(Math.log(spec.tailweight)), false)),
    inverse: unaryAlgebra((o, spec, _p, y) => sinhArcsinhOn(o, y, o.scalar(spec.skew), o.scalar(Math.log(spec.tailweight)), true)),
  }),
  inverseCost: 'analytic',
});

const onRaw =
  (inverse: boolean) =>
  <T>(o: Ops<T>, _fields: unknown, z: T, raw: T, dims: readonly number[]): ElementwiseResult<T> => {
    const [skew, logTailweight] = blocksOf(o, raw, dims, 2) as [T, T];
    return sinhArcsinhOn(o, z, skew, logTailweight, inverse);
  };

/** The sinh-arcsinh transformer (`{ kind: 'sinhArcsinh' }`): 2 conditioner values per element, s and log w in blocks; zero outputs give the identity. */
export const sinhArcsinhTransformer = defineTransformer({
  kind: 'sinhArcsinh',
  codec: strictObject("a 'sinhArcsinh' transformer", { kind: tag('sinhArcsinh') }),
  valuesPerElement: () => 2,
  layout: 'blocks',
  forward: onRaw(false),
  inverse: onRaw(true),
  checks: () => [],
});
