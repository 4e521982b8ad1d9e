/**
 * Affine coupling (RealNVP / Glow, with CAFLOW's soft clamp), optionally conditioned, on events of any
 * rank. x = [x1, x2] on channels (x1 the first floor(C/2)); (s_raw, t) = NN([x1, cond...]);
 *   s = clamp * (2/pi) * atan(s_raw), so |s| < clamp;   y = [x1, x2 * exp(s) + t].
 * log|det J| = sum(s). Inverse: x2 = (y2 - t) * exp(-s). Starts as the identity (zero last layer).
 * The mechanics are the generic coupling (src/dsl/maths/coupling.ts) with the affine transformer.
 */
import type * as t from 'io-ts';
import { convNet, type NetSpec } from '../../layers/spec.js';
import { primitive } from '../primitive.js';
import { CondCodec, NetSpecCodec, nodeCodec, num, shapeCodec } from '../codec-parts.js';
import { couplingKind } from '../maths/coupling.js';
import { bindTransformer } from '../maths/elementwise.js';
import type { CondShapes, NoCond, Shape } from '../shape.js';
import type { Bijector } from '../spec.js';
import { affineTransformer } from '../transformers/affine.js';

const codec = nodeCodec('affineCoupling', { shape: shapeCodec(), cond: CondCodec, net: NetSpecCodec, clamp: num });
/** The JSON spec of an `affineCoupling` node: event shape, conditioning shapes, net and soft clamp bound. */
export type AffineCouplingSpec = t.TypeOf<typeof codec>;

/** Options every coupling layer takes: its conditioning inputs and network. */
export interface CouplingOptions<C extends CondShapes> {
  /** Named conditioning inputs concatenated to x1 at the network's input. */
  readonly cond?: C;
  /** The network from [x1, cond...] to the transformer's parameters (default `convNet()`). */
  readonly net?: NetSpec;
}

/** Options of `affineCoupling`: those of every coupling plus the soft clamp bound. */
export interface AffineCouplingOptions<C extends CondShapes> extends CouplingOptions<C> {
  /** Bound on |s|; CAFLOW uses 2. */
  readonly clamp?: number;
}

/** Affine coupling on events of `shape`: y2 = x2 * exp(s) + t with |s| < clamp (default 2), (s, t) from NN([x1, cond...]); starts as the identity. */
export const affineCoupling = <const S extends Shape, const C extends CondShapes = NoCond>(
  shape: S,
  options: AffineCouplingOptions<C> = {},
): Bijector<S, S, C> =>
  primitive(affineCouplingDefinition, { kind: 'affineCoupling', shape, cond: options.cond ?? {}, net: options.net ?? convNet(), clamp: options.clamp ?? 2 });

/** The `affineCoupling` kind: the generic coupling with the soft-clamped affine transformer. */
export const affineCouplingDefinition = couplingKind<AffineCouplingSpec>('affineCoupling', codec, ({ clamp }) => bindTransformer(affineTransformer, { kind: 'affine', clamp }));
