/** Unsqueeze: 2x2 depth-to-space, [C,H,W] -> [C/4,2H,2W], the inverse of `squeeze`. log|det J| = 0. */
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { zeroLogDet } from '../../algebra/ops.js';
import { primitive } from '../primitive.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { checkShape, defineBijector, fail, movesElements, noParams, singleTensor } from '../definition.js';
import { formatShape, type ChannelsDivisibleBy4, type Shape3, type Unsqueezed } from '../shape.js';
import type { Bijector } from '../spec.js';
import { depthToSpaceOn, spaceToDepthOn } from './squeeze.js';

const codec = nodeCodec('unsqueeze', { shape: shapeCodec([3]) });
/** The JSON spec of an `unsqueeze` node: its image event shape [C,H,W]. */
export type UnsqueezeSpec = t.TypeOf<typeof codec>;

/** 2x2 depth-to-space on image events: [C,H,W] -> [C/4,2H,2W] (C divisible by 4); the inverse of `squeeze`. */
export const unsqueeze = <const S extends Shape3>(shape: S & ChannelsDivisibleBy4<S>): Bijector<S, Unsqueezed<S>> =>
  primitive(unsqueezeDefinition, { kind: 'unsqueeze', shape });

/** The `unsqueeze` kind, written on the op algebra. */
export const unsqueezeDefinition = defineBijector<UnsqueezeSpec>({
  kind: 'unsqueeze',
  codec,
  ranks: [3],
  signature: (spec, path) => {
    const bad = checkShape(spec.shape, `${path}.shape`, [3]);
    if (bad.length > 0) return E.left(bad);
    const [c, h, w] = spec.shape;
    if (c % 4 !== 0) return fail(`${path}.shape`, `unsqueeze needs channels divisible by 4, got ${formatShape(spec.shape)}`);
    return singleTensor(spec.shape, [c / 4, 2 * h, 2 * w]);
  },
  domain: movesElements,
  params: noParams,
  ...algebraic<UnsqueezeSpec>({
    forward: unaryAlgebra((o, { shape }, _p, x) => ({ out: depthToSpaceOn(o, x, shape), logDet: zeroLogDet(o, x) })),
    inverse: unaryAlgebra((o, { shape: [c, h, w] }, _p, y) => ({ out: spaceToDepthOn(o, y, [c / 4, 2 * h, 2 * w]), logDet: zeroLogDet(o, y) })),
  }),
  inverseCost: 'analytic',
});
