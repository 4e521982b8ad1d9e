/**
 * Rational-quadratic spline coupling (Durkan et al. 2019, "Neural Spline Flows"), on events of any rank.
 *
 * x = [x1, x2] (x1 = the first floor(C/2) channels); for every element of x2 the network NN([x1, cond])
 * gives K bin widths, K bin heights (softmax, mixed with a minimum bin size 1e-3, scaled to 2B; knots
 * cumulative from -B to B) and K-1 interior knot derivatives (1e-3 + softplus(u + c), the constant c
 * making a zero output give derivative 1); the boundary derivatives are 1. With the network's zero last
 * layer the bins are uniform and every derivative is 1, so the layer starts as the identity.
 * Inside [-B, B], in bin k with xi = (x - x_k) / w_k and slope s_k = h_k / w_k:
 *   y = y_k + h_k (s_k xi^2 + d_k xi (1 - xi)) / (s_k + (d_k + d_{k+1} - 2 s_k) xi (1 - xi))
 *   dy/dx = s_k^2 (d_{k+1} xi^2 + 2 s_k xi (1 - xi) + d_k (1 - xi)^2) / (s_k + (d_k + d_{k+1} - 2 s_k) xi (1 - xi))^2
 * Outside [-B, B] the map is the identity (linear tails). log|det J| = sum log dy/dx.
 * The inverse solves the quadratic for xi in closed form (src/dsl/transformers/spline.ts).
 */
import type * as t from 'io-ts';
import { convNet } from '../../layers/spec.js';
import { primitive } from '../primitive.js';
import { CondCodec, NetSpecCodec, nodeCodec, num, shapeCodec } from '../codec-parts.js';
import { couplingKind } from '../maths/coupling.js';
import { bindTransformer } from '../maths/elementwise.js';
import type { CondShapes, NoCond, Shape } from '../shape.js';
import type { Bijector } from '../spec.js';
import { splineTransformer } from '../transformers/spline.js';
import type { CouplingOptions } from './affine-coupling.js';

const codec = nodeCodec('splineCoupling', { shape: shapeCodec(), cond: CondCodec, net: NetSpecCodec, bins: num, bound: num });
/** The JSON spec of a `splineCoupling` node: event shape, conditioning shapes, net, bins K and bound B. */
export type SplineCouplingSpec = t.TypeOf<typeof codec>;

/** Options of `splineCoupling`: those of every coupling plus the spline's bins and interval. */
export interface SplineCouplingOptions<C extends CondShapes> extends CouplingOptions<C> {
  /** Number of bins K (default 8). */
  readonly bins?: number;
  /** Half-width B of the spline's interval (default 3). */
  readonly bound?: number;
}

/** Rational-quadratic spline coupling (NSF) on events of `shape`: x2 through a spline on [-B, B] from NN([x1, cond...]); starts as the identity. */
export const splineCoupling = <const S extends Shape, const C extends CondShapes = NoCond>(
  shape: S,
  options: SplineCouplingOptions<C> = {},
): Bijector<S, S, C> =>
  primitive(splineCouplingDefinition, { kind: 'splineCoupling', shape, cond: options.cond ?? {}, net: options.net ?? convNet(), bins: options.bins ?? 8, bound: options.bound ?? 3 });

/** The `splineCoupling` kind: the generic coupling with the spline transformer. */
export const splineCouplingDefinition = couplingKind<SplineCouplingSpec>('splineCoupling', codec, ({ bins, bound }) => bindTransformer(splineTransformer, { kind: 'spline', bins, bound }));
