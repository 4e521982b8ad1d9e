/** The identity on an event of any rank: y = x, log|det J| = 0 (a placeholder branch, e.g. in factorOut). */
import type * as t from 'io-ts';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { zeroLogDet } from '../../algebra/ops.js';
import { primitive } from '../primitive.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { defineBijector, movesElements, noParams, shapePreserving } from '../definition.js';
import type { Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('identity', { shape: shapeCodec() });
/** The JSON spec of an `identity` node: its event shape. */
export type IdentitySpec = t.TypeOf<typeof codec>;

/** The identity on events of `shape`: y = x, log|det J| = 0. */
export const identity = <const S extends Shape>(shape: S): Bijector<S, S> => primitive(identityDefinition, { kind: 'identity', shape });

/** The `identity` kind: no parameters. */
export const identityDefinition = defineBijector<IdentitySpec>({
  kind: 'identity',
  codec,
  ranks: 'any',
  signature: shapePreserving(),
  domain: movesElements,
  params: noParams,
  ...algebraic<IdentitySpec>({
    forward: unaryAlgebra((o, _spec, _p, x) => ({ out: x, logDet: zeroLogDet(o, x) })),
    inverse: unaryAlgebra((o, _spec, _p, y) => ({ out: y, logDet: zeroLogDet(o, y) })),
  }),
  inverseCost: 'analytic',
});
