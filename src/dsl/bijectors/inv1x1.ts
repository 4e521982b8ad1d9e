/**
 * Invertible 1x1 convolution (Glow): y = W x at every position (the channel axis of any rank; for a
 * vector [D] a dense invertible linear map), W a C x C matrix initialised as a random orthogonal one.
 * log|det J| = (number of positions) * log|det W|; the inverse applies W^-1.
 */
import * as tf from '@tensorflow/tfjs';
import type * as t from 'io-ts';
import { primitive } from '../primitive.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { defineBijector, ontoReals, shapePreserving, unary } from '../definition.js';
import { inverseMatrix, logAbsDet, mixChannels } from '../maths/channel-mix.js';
import { param, perSample } from '../maths/common.js';
import { randomOrthogonal } from '../maths/linalg.js';
import { sizeOf, spatialOf, type Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('inv1x1', { shape: shapeCodec() });
export type Inv1x1Spec = t.TypeOf<typeof codec>;

export const inv1x1 = <const S extends Shape>(shape: S): Bijector<S, S> => primitive(inv1x1Definition, { kind: 'inv1x1', shape });

/** Positions the channel mixing is applied at (H * W for an image, 1 for a vector). */
export const positionsOf = (shape: Shape): number => sizeOf(spatialOf(shape));

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
  forward: unary(({ shape }, p, x) => {
    const weight = param<tf.Tensor2D>(p, 'weight');
    return { out: mixChannels(x, weight), logDet: perSample(x.shape[0] as number, tf.mul(logAbsDet(weight), positionsOf(shape))) };
  }),
  inverse: unary(({ shape }, p, y) => {
    const weight = param<tf.Tensor2D>(p, 'weight');
    return { out: mixChannels(y, inverseMatrix(weight)), logDet: perSample(y.shape[0] as number, tf.mul(logAbsDet(weight), -positionsOf(shape))) };
  }),
  inverseCost: 'analytic',
});
