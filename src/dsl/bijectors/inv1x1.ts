/**
 * Invertible 1x1 convolution (Glow): y = W x at every position (the channel axis of any rank; for a
 * vector [D] a dense invertible linear map), W a C x C matrix initialised as a random orthogonal one.
 * log|det J| = (number of positions) * log|det W|; the inverse applies W^-1.
 */
import * as tf from '@tensorflow/tfjs';
import type * as t from 'io-ts';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { param } from '../../algebra/ops.js';
import { primitive } from '../primitive.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { defineBijector, ontoReals, shapePreserving } from '../definition.js';
import { randomOrthogonal } from '../maths/linalg.js';
import { sizeOf, spatialOf, type Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('inv1x1', { shape: shapeCodec() });
/** The JSON spec of an `inv1x1` node: its event shape. */
export type Inv1x1Spec = t.TypeOf<typeof codec>;

/** Invertible 1x1 convolution on events of `shape`: a C x C matrix W (random orthogonal at init) applied at every position. */
export const inv1x1 = <const S extends Shape>(shape: S): Bijector<S, S> => primitive(inv1x1Definition, { kind: 'inv1x1', shape });

/** Positions the channel mixing is applied at (H * W for an image, 1 for a vector). */
export const positionsOf = (shape: Shape): number => sizeOf(spatialOf(shape));

/** The `inv1x1` kind: one trained C x C weight and its maths (log|det| from W's determinant). */
export const inv1x1Definition = defineBijector<Inv1x1Spec>({
  kind: 'inv1x1',
  codec,
  ranks: 'any',
  signature: shapePreserving(),
  domain: ontoReals,
  params: {
    shapes: ({ shape: [c] }) => ({ weight: [c as number, c as number] }),
    init: ({ shape: [c] }, { random }) => ({ weight: tf.tensor2d(Float32Array.from(randomOrthogonal(c as number, random)), [c as number, c as number]) }),
    frozen: [],
    mixing: ['weight'],
  },
  ...algebraic<Inv1x1Spec>({
    forward: unaryAlgebra((o, { shape }, p, x) => {
      const weight = param(o, p, 'weight');
      return { out: o.mixChannels(x, weight), logDet: o.perSample(x, o.mul(o.logAbsDet(weight), o.scalar(positionsOf(shape)))) };
    }),
    inverse: unaryAlgebra((o, { shape }, p, y) => {
      const weight = param(o, p, 'weight');
      return { out: o.mixChannels(y, o.inverseMatrix(weight)), logDet: o.perSample(y, o.mul(o.logAbsDet(weight), o.scalar(-positionsOf(shape)))) };
    }),
  }),
  inverseCost: 'analytic',
});
