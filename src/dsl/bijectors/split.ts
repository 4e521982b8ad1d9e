/**
 * One tensor to two on the channel axis (any rank): channels [0, at) and [at, C). `at` defaults to C/2.
 * A bijection of the elements: log|det J| = 0. Its inverse is `concat`.
 */
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { algebraic } from '../../algebra/define.js';
import { inputsOf, zeroLogDet } from '../../algebra/ops.js';
import { primitive } from '../primitive.js';
import { nodeCodec, num, shapeCodec } from '../codec-parts.js';
import { checkShape, defineBijector, fail, intersect, noParams, real } from '../definition.js';
import type { HalfChannels, Shape, SplitAt } from '../shape.js';
import type { AnyFlow, Flow } from '../spec.js';

const codec = nodeCodec('split', { shape: shapeCodec(), at: num });
/** The JSON spec of a `split` node: event shape and the channel `at` which it splits. */
export type SplitSpec = t.TypeOf<typeof codec>;

/** Splits events of `shape` on the channel axis into channels [0, at) and [at, C) (`at` defaults to C/2); the inverse of `concat`. */
export function split<const S extends Shape>(shape: S): Flow<readonly [S], SplitAt<S, HalfChannels<S>>>;
export function split<const S extends Shape, const At extends number>(shape: S, at: At): Flow<readonly [S], SplitAt<S, At>>;
export function split(shape: Shape, at?: number): AnyFlow {
  const c = shape[0] as number;
  if (at === undefined && c % 2 !== 0) throw new RangeError(`split: ${c} channels do not halve; pass the split point explicitly`);
  return primitive(splitDefinition, { kind: 'split', shape, at: at ?? c / 2 });
}

/** The `split` kind: no parameters, a one-input two-output bijection. */
export const splitDefinition = defineBijector<SplitSpec>({
  kind: 'split',
  codec,
  ranks: 'any',
  signature: (spec, path) => {
    const bad = checkShape(spec.shape, `${path}.shape`);
    if (bad.length > 0) return E.left(bad);
    const [c = 0, ...spatial] = spec.shape;
    if (!(Number.isInteger(spec.at) && spec.at > 0 && spec.at < c)) return fail(`${path}.at`, `cannot split ${c} channels at ${spec.at}: expected 0 < at < ${c}`);
    return E.right({ ins: [spec.shape], outs: [[spec.at, ...spatial], [c - spec.at, ...spatial]], cond: {} });
  },
  domain: {
    input: (_spec, [a = real, b = real]) => [intersect(a, b)],
    image: (_spec, [d = real]) => [d, d],
  },
  params: noParams,
  ...algebraic<SplitSpec>({
    forward: (o, { shape: [c = 0], at }, _p, xs) => {
      const [x] = inputsOf(xs, 1);
      return { outs: o.splitLast(x, [at, c - at]), logDet: zeroLogDet(o, x) };
    },
    inverse: (o, _spec, _p, ys) => {
      const [a, b] = inputsOf(ys, 2);
      return { outs: [o.concatLast([a, b])], logDet: zeroLogDet(o, a) };
    },
  }),
  inverseCost: 'analytic',
});
