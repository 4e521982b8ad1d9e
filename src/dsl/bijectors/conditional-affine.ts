/**
 * Conditional affine (SRFlow's affine injector), on events of any rank: (s_raw, t) = NN(cond...) from
 * the conditioning only, s = clamp * (2/pi) * atan(s_raw); y = x * exp(s) + t over all channels.
 * log|det J| = sum(s). Starts as the identity (zero-initialised last layer).
 */
import type * as t from 'io-ts';
import { convNet, type NetSpec } from '../../layers/spec.js';
import { primitive } from '../primitive.js';
import { CondCodec, NetSpecCodec, nodeCodec, num, shapeCodec } from '../codec-parts.js';
import { injectorKind } from '../maths/coupling.js';
import { bindTransformer } from '../maths/elementwise.js';
import type { CondShapes, Shape } from '../shape.js';
import type { Bijector } from '../spec.js';
import { affineTransformer } from '../transformers/affine.js';

const codec = nodeCodec('conditionalAffine', { shape: shapeCodec(), cond: CondCodec, net: NetSpecCodec, clamp: num });
export type ConditionalAffineSpec = t.TypeOf<typeof codec>;

export interface ConditionalAffineOptions<C extends CondShapes> {
  readonly cond: C;
  readonly net?: NetSpec;
  readonly clamp?: number;
}

export const conditionalAffine = <const S extends Shape, const C extends CondShapes>(
  shape: S,
  options: ConditionalAffineOptions<C>,
): Bijector<S, S, C> =>
  primitive(conditionalAffineDefinition, { kind: 'conditionalAffine', shape, cond: options.cond, net: options.net ?? convNet(), clamp: options.clamp ?? 2 });

export const conditionalAffineDefinition = injectorKind<ConditionalAffineSpec>('conditionalAffine', codec, ({ clamp }) => bindTransformer(affineTransformer, { kind: 'affine', clamp }));
