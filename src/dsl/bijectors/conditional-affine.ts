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
/** The JSON spec of a `conditionalAffine` node: event shape, conditioning shapes, net and soft clamp bound. */
export type ConditionalAffineSpec = t.TypeOf<typeof codec>;

/** Options of `conditionalAffine`. */
export interface ConditionalAffineOptions<C extends CondShapes> {
  /** Named conditioning inputs, the net's only input. */
  readonly cond: C;
  /** The network from the conditioning to (s_raw, t) (default `convNet()`). */
  readonly net?: NetSpec;
  /** Bound on |s| (default 2). */
  readonly clamp?: number;
}

/** Affine injector on events of `shape`: y = x * exp(s) + t with (s, t) from NN(cond...) only; starts as the identity. */
export const conditionalAffine = <const S extends Shape, const C extends CondShapes>(
  shape: S,
  options: ConditionalAffineOptions<C>,
): Bijector<S, S, C> =>
  primitive(conditionalAffineDefinition, { kind: 'conditionalAffine', shape, cond: options.cond, net: options.net ?? convNet(), clamp: options.clamp ?? 2 });

/** The `conditionalAffine` kind: the injector with the soft-clamped affine transformer. */
export const conditionalAffineDefinition = injectorKind<ConditionalAffineSpec>('conditionalAffine', codec, ({ clamp }) => bindTransformer(affineTransformer, { kind: 'affine', clamp }));
