/**
 * Coupling layers (RealNVP / Glow), with optional conditioning.
 *
 * Split x = [x1, x2] on channels, x1 the first floor(C/2). The network sees [x1, cond...] concatenated
 * on channels, so x1 passes unchanged and the Jacobian is triangular.
 * - affine: (s_raw, t) = NN([x1, cond]); s = clamp * (2/pi) * atan(s_raw), so |s| < clamp;
 *   y2 = x2 * exp(s) + t. log|det J| = sum(s). Inverse: x2 = (y2 - t) * exp(-s).
 * - additive: t = NN([x1, cond]); y2 = x2 + t. log|det J| = 0.
 * The network's last layer starts at zero, so every coupling starts as the identity.
 */
import { convNet } from '../../layers/spec.js';
import type { NetSpec } from '../../layers/spec.js';
import { built } from '../build.js';
import type { CondShapes, NoCond, Shape3 } from '../shape.js';
import type { Bijector } from '../spec.js';

export interface CouplingOptions<C extends CondShapes> {
  /** Named conditioning inputs concatenated to x1 at the network's input. */
  readonly cond?: C;
  readonly net?: NetSpec;
}

export interface AffineCouplingOptions<C extends CondShapes> extends CouplingOptions<C> {
  /** Bound on |s|; CAFLOW uses 2. */
  readonly clamp?: number;
}

export const affineCoupling = <const S extends Shape3, const C extends CondShapes = NoCond>(
  shape: S,
  options: AffineCouplingOptions<C> = {},
): Bijector<S, S, C> =>
  built({ kind: 'affineCoupling', shape, cond: options.cond ?? {}, net: options.net ?? convNet(), clamp: options.clamp ?? 2 });

export const additiveCoupling = <const S extends Shape3, const C extends CondShapes = NoCond>(
  shape: S,
  options: CouplingOptions<C> = {},
): Bijector<S, S, C> => built({ kind: 'additiveCoupling', shape, cond: options.cond ?? {}, net: options.net ?? convNet() });
