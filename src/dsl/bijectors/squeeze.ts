/**
 * Squeeze: 2x2 space-to-depth, [C,H,W] -> [4C,H/2,W/2]; `unsqueeze` (src/dsl/bijectors/unsqueeze.ts)
 * is its inverse. Output channel c*4 + 2*dy + dx holds input channel c at offset (dy, dx) of each 2x2
 * block, the order of PyTorch's pixel_unshuffle, so weights move between the two frameworks unchanged.
 * A permutation of the elements: log|det J| = 0. Images only.
 * NHWC [N,H,W,C] -> [N,H/2,2,W/2,2,C] -> [N,H/2,W/2,C,2,2] -> [N,H/2,W/2,4C].
 */
import type * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { zeroLogDet, type Ops } from '../../algebra/ops.js';
import { tfjsOps } from '../../algebra/tfjs.js';
import { primitive } from '../primitive.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { checkShape, defineBijector, fail, movesElements, noParams, singleTensor } from '../definition.js';
import { formatShape, type EvenSpatial, type Shape3, type Squeezed } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('squeeze', { shape: shapeCodec([3]) });
/** The JSON spec of a `squeeze` node: its image event shape [C,H,W]. */
export type SqueezeSpec = t.TypeOf<typeof codec>;

/** 2x2 space-to-depth on image events: [C,H,W] -> [4C,H/2,W/2] (H and W even); log|det J| = 0. */
export const squeeze = <const S extends Shape3>(shape: S & EvenSpatial<S>): Bijector<S, Squeezed<S>> => primitive(squeezeDefinition, { kind: 'squeeze', shape });

/** Space-to-depth of an image [C,H,W] (tensor [N,H,W,C]) on the algebra. */
export const spaceToDepthOn = <T>(o: Ops<T>, x: T, [c, h, w]: readonly number[]): T =>
  o.reshape(o.transpose(o.reshape(x, [(h as number) / 2, 2, (w as number) / 2, 2, c as number]), [0, 1, 3, 5, 2, 4]), [(h as number) / 2, (w as number) / 2, 4 * (c as number)]);

/** Depth-to-space of an image [4C,H,W] (tensor [N,H,W,4C]) on the algebra: the inverse of `spaceToDepthOn`. */
export const depthToSpaceOn = <T>(o: Ops<T>, y: T, [c4, h, w]: readonly number[]): T =>
  o.reshape(o.transpose(o.reshape(y, [h as number, w as number, (c4 as number) / 4, 2, 2]), [0, 1, 4, 2, 5, 3]), [2 * (h as number), 2 * (w as number), (c4 as number) / 4]);

/** Space-to-depth of an NHWC tensor (CAFLOW squeezes its latents with it). */
export const spaceToDepth = (x: tf.Tensor4D): tf.Tensor4D => spaceToDepthOn(tfjsOps, x, [x.shape[3], x.shape[1], x.shape[2]]) as tf.Tensor4D;

/** Depth-to-space of an NHWC tensor. */
export const depthToSpace = (y: tf.Tensor4D): tf.Tensor4D => depthToSpaceOn(tfjsOps, y, [y.shape[3], y.shape[1], y.shape[2]]) as tf.Tensor4D;

/** The `squeeze` kind, written on the op algebra. */
export const squeezeDefinition = defineBijector<SqueezeSpec>({
  kind: 'squeeze',
  codec,
  ranks: [3],
  signature: (spec, path) => {
    const bad = checkShape(spec.shape, `${path}.shape`, [3]);
    if (bad.length > 0) return E.left(bad);
    const [c, h, w] = spec.shape;
    if (h % 2 !== 0 || w % 2 !== 0) return fail(`${path}.shape`, `squeeze needs an even height and width, got ${formatShape(spec.shape)}`);
    return singleTensor(spec.shape, [4 * c, h / 2, w / 2]);
  },
  domain: movesElements,
  params: noParams,
  ...algebraic<SqueezeSpec>({
    forward: unaryAlgebra((o, { shape }, _p, x) => ({ out: spaceToDepthOn(o, x, shape), logDet: zeroLogDet(o, x) })),
    inverse: unaryAlgebra((o, { shape: [c, h, w] }, _p, y) => ({ out: depthToSpaceOn(o, y, [4 * c, h / 2, w / 2]), logDet: zeroLogDet(o, y) })),
  }),
  inverseCost: 'analytic',
});
