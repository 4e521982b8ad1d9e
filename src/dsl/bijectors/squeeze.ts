/**
 * Squeeze: 2x2 space-to-depth, [C,H,W] -> [4C,H/2,W/2]; `unsqueeze` (src/dsl/bijectors/unsqueeze.ts)
 * is its inverse. Output channel c*4 + 2*dy + dx holds input channel c at offset (dy, dx) of each 2x2
 * block, the order of PyTorch's pixel_unshuffle, so weights move between the two frameworks unchanged.
 * A permutation of the elements: log|det J| = 0. Images only.
 * NHWC [N,H,W,C] -> [N,H/2,2,W/2,2,C] -> [N,H/2,W/2,C,2,2] -> [N,H/2,W/2,4C].
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { built } from '../build.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { checkShape, defineBijector, fail, movesElements, noParams, one, unary } from '../definition.js';
import { zeroLogDet } from '../maths/common.js';
import { formatShape, type EvenSpatial, type Shape3, type Squeezed } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('squeeze', { shape: shapeCodec([3]) });
export type SqueezeSpec = t.TypeOf<typeof codec>;

export const squeeze = <const S extends Shape3>(shape: S & EvenSpatial<S>): Bijector<S, Squeezed<S>> => built({ kind: 'squeeze', shape });

export const spaceToDepth = (x: tf.Tensor4D): tf.Tensor4D => {
  const [n, h, w, c] = x.shape;
  const blocks = tf.reshape(x, [n, h / 2, 2, w / 2, 2, c]);
  return tf.reshape(tf.transpose(blocks, [0, 1, 3, 5, 2, 4]), [n, h / 2, w / 2, 4 * c]);
};

export const depthToSpace = (y: tf.Tensor4D): tf.Tensor4D => {
  const [n, h, w, c4] = y.shape;
  const blocks = tf.reshape(y, [n, h, w, c4 / 4, 2, 2]);
  return tf.reshape(tf.transpose(blocks, [0, 1, 4, 2, 5, 3]), [n, 2 * h, 2 * w, c4 / 4]);
};

export const squeezeDefinition = defineBijector<SqueezeSpec>({
  kind: 'squeeze',
  codec,
  ranks: [3],
  signature: (spec, path) => {
    const bad = checkShape(spec.shape, `${path}.shape`, [3]);
    if (bad.length > 0) return E.left(bad);
    const [c, h, w] = spec.shape;
    if (h % 2 !== 0 || w % 2 !== 0) return fail(`${path}.shape`, `squeeze needs an even height and width, got ${formatShape(spec.shape)}`);
    return one(spec.shape, [4 * c, h / 2, w / 2]);
  },
  domain: movesElements,
  params: noParams,
  forward: unary((_spec, _p, x) => ({ out: spaceToDepth(x as tf.Tensor4D), logDet: zeroLogDet(x.shape[0] as number) })),
  inverse: unary((_spec, _p, y) => ({ out: depthToSpace(y as tf.Tensor4D), logDet: zeroLogDet(y.shape[0] as number) })),
  inverseCost: 'analytic',
});
