/**
 * Additive coupling (NICE), optionally conditioned, on events of any rank: x = [x1, x2] on channels,
 * t = NN([x1, cond...]), y = [x1, x2 + t]. log|det J| = 0. Inverse: x2 = y2 - t.
 * The generic coupling (src/dsl/maths/coupling.ts) with the additive transformer.
 */
import type * as t from 'io-ts';
import { convNet } from '../../layers/spec.js';
import { primitive } from '../primitive.js';
import { CondCodec, NetSpecCodec, nodeCodec, shapeCodec } from '../codec-parts.js';
import { couplingKind } from '../maths/coupling.js';
import { bindTransformer } from '../maths/elementwise.js';
import type { CondShapes, NoCond, Shape } from '../shape.js';
import type { Bijector } from '../spec.js';
import { additiveTransformer } from '../transformers/additive.js';
import type { CouplingOptions } from './affine-coupling.js';

const codec = nodeCodec('additiveCoupling', { shape: shapeCodec(), cond: CondCodec, net: NetSpecCodec });
/** The JSON spec of an `additiveCoupling` node: event shape, conditioning shapes and the net computing the shift. */
export type AdditiveCouplingSpec = t.TypeOf<typeof codec>;

/** Additive (NICE) coupling on events of `shape`: y2 = x2 + NN([x1, cond...]), log|det J| = 0; the net defaults to `convNet()`. */
export const additiveCoupling = <const S extends Shape, const C extends CondShapes = NoCond>(
  shape: S,
  options: CouplingOptions<C> = {},
): Bijector<S, S, C> => primitive(additiveCouplingDefinition, { kind: 'additiveCoupling', shape, cond: options.cond ?? {}, net: options.net ?? convNet() });

/** The `additiveCoupling` kind: the generic coupling with the additive transformer. */
export const additiveCouplingDefinition = couplingKind<AdditiveCouplingSpec>('additiveCoupling', codec, () => bindTransformer(additiveTransformer, { kind: 'additive' }));
