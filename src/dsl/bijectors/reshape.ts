/**
 * Reshape: an event of one shape to an event of another with as many elements, any ranks. Elements keep
 * their order in the tensors' channels-last layout: `flatten([C,H,W])` gives `[C*H*W]` holding the
 * NHWC tensor's elements in (H, W, C) order, and `unflatten` puts them back. A bijection of the
 * elements: log|det J| = 0; the inverse reshapes back.
 */
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { Multiply } from 'ts-arithmetic';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { zeroLogDet } from '../../algebra/ops.js';
import { primitive } from '../primitive.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { checkShape, defineBijector, fail, movesElements, noParams, singleTensor } from '../definition.js';
import { formatShape, sizeOf, tensorShape, type Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('reshape', { shape: shapeCodec(), to: shapeCodec() });
/** The JSON spec of a `reshape` node: the input event shape and the output one (`to`). */
export type ReshapeSpec = t.TypeOf<typeof codec>;

/** The number of elements of a shape, computed on literal dimensions (`number` otherwise). */
export type Size<S extends Shape> = S extends readonly [infer A extends number]
  ? A
  : S extends readonly [infer A extends number, ...infer R extends readonly number[]]
    ? Multiply<A, Size<R>>
    : number;

/** Reshapes events of `shape` to `to` (as many elements), keeping the channels-last element order. */
export const reshape = <const S extends Shape, const T extends Shape>(shape: S, to: T): Bijector<S, T> => primitive(reshapeDefinition, { kind: 'reshape', shape, to });

/** [C, ...] -> [C * ...]: the event as a vector (channels-last element order). */
export const flatten = <const S extends Shape>(shape: S): Bijector<S, readonly [Size<S>]> => primitive(reshapeDefinition, { kind: 'reshape', shape, to: [sizeOf(shape)] });

/** [D] -> `to` (D = its size): the inverse of `flatten(to)`. */
export const unflatten = <const T extends Shape>(to: T): Bijector<readonly [Size<T>], T> => primitive(reshapeDefinition, { kind: 'reshape', shape: [sizeOf(to)], to });

/** The tensor dimensions of an event without the batch axis (channels last). */
const dimsOf = (s: Shape): number[] => tensorShape(s, 1).slice(1);

/** The `reshape` kind: no parameters. */
export const reshapeDefinition = defineBijector<ReshapeSpec>({
  kind: 'reshape',
  codec,
  ranks: 'any',
  signature: (spec, path) => {
    const bad = [...checkShape(spec.shape, `${path}.shape`), ...checkShape(spec.to, `${path}.to`)];
    if (bad.length > 0) return E.left(bad);
    return sizeOf(spec.shape) === sizeOf(spec.to)
      ? singleTensor(spec.shape, spec.to)
      : fail(`${path}.to`, `cannot reshape ${formatShape(spec.shape)} (${sizeOf(spec.shape)} elements) to ${formatShape(spec.to)} (${sizeOf(spec.to)})`);
  },
  domain: movesElements,
  params: noParams,
  ...algebraic<ReshapeSpec>({
    forward: unaryAlgebra((o, { to }, _p, x) => ({ out: o.reshape(x, dimsOf(to)), logDet: zeroLogDet(o, x) })),
    inverse: unaryAlgebra((o, { shape }, _p, y) => ({ out: o.reshape(y, dimsOf(shape)), logDet: zeroLogDet(o, y) })),
  }),
  inverseCost: 'analytic',
});
