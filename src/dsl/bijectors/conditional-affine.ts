/**
 * Conditional affine (SRFlow's affine injector): (s_raw, t) = NN(cond...) from the conditioning only,
 * s = clamp * (2/pi) * atan(s_raw); y = x * exp(s) + t over all channels.
 * log|det J| = sum(s). Starts as the identity (zero-initialised last layer).
 */
import { convNet, type NetSpec } from '../../layers/spec.js';
import { built } from '../build.js';
import type { CondShapes, Shape3 } from '../shape.js';
import type { Bijector } from '../spec.js';

export interface ConditionalAffineOptions<C extends CondShapes> {
  readonly cond: C;
  readonly net?: NetSpec;
  readonly clamp?: number;
}

export const conditionalAffine = <const S extends Shape3, const C extends CondShapes>(
  shape: S,
  options: ConditionalAffineOptions<C>,
): Bijector<S, S, C> =>
  built({ kind: 'conditionalAffine', shape, cond: options.cond, net: options.net ?? convNet(), clamp: options.clamp ?? 2 });
