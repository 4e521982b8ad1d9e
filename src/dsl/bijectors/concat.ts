/**
 * Two tensors to one, concatenated on the channel axis (any rank; the spatial sizes must agree).
 * log|det J| = 0. Its inverse is `split`.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { algebraic } from '../../algebra/define.js';
import { inputsOf, zeroLogDet } from '../../algebra/ops.js';
import { primitive } from '../primitive.js';
import { indexed, nodeCodec, shapeCodec, show } from '../codec-parts.js';
import { checkShape, defineBijector, fail, hull, noParams, real } from '../definition.js';
import { formatShape, sameShape, spatialOf, type Concatenated, type Shape } from '../shape.js';
import type { Flow } from '../spec.js';

const ShapeC = shapeCodec();
const ShapePairC = new t.Type<readonly [Shape, Shape], readonly [Shape, Shape], unknown>(
  'two event shapes [[C,...],[C,...]]',
  (u): u is readonly [Shape, Shape] => Array.isArray(u) && u.length === 2 && u.every((s) => ShapeC.is(s)),
  (u, c) => {
    if (!Array.isArray(u) || u.length !== 2) return t.failure(u, c, `expected two event shapes [[C,...],[C,...]], found ${show(u)}`);
    const errors = u.flatMap((s: unknown, i) => {
      const r = ShapeC.validate(s, t.appendContext(c, String(i), ShapeC, s));
      return E.isLeft(r) ? r.left : [];
    });
    return errors.length > 0 ? t.failures(errors) : t.success(u as unknown as readonly [Shape, Shape]);
  },
  ([a, b]) => [ShapeC.encode(a), ShapeC.encode(b)],
);
indexed.add(ShapePairC);

const codec = nodeCodec('concat', { shapes: ShapePairC });
/** The JSON spec of a `concat` node: the shapes of its two inputs. */
export type ConcatSpec = t.TypeOf<typeof codec>;

/** Concatenates an `a` and a `b` event on the channel axis into one; log|det J| = 0, the inverse of `split`. */
export const concat = <const A extends Shape, const B extends Shape>(a: A, b: B): Flow<readonly [A, B], readonly [Concatenated<A, B>]> =>
  primitive(concatDefinition, { kind: 'concat', shapes: [a, b] });

/** The `concat` kind: no parameters, a two-input one-output bijection. */
export const concatDefinition = defineBijector<ConcatSpec>({
  kind: 'concat',
  codec,
  ranks: 'any',
  signature: (spec, path) => {
    const bad = [...checkShape(spec.shapes[0], `${path}.shapes[0]`), ...checkShape(spec.shapes[1], `${path}.shapes[1]`)];
    if (bad.length > 0) return E.left(bad);
    const [a, b] = spec.shapes;
    if (!sameShape(spatialOf(a), spatialOf(b)))
      return fail(`${path}.shapes`, `cannot concatenate ${formatShape(a)} and ${formatShape(b)}: ${a.length === 3 && b.length === 3 ? 'heights and widths differ' : 'spatial sizes differ'}`);
    return E.right({ ins: [a, b], outs: [[(a[0] as number) + (b[0] as number), ...spatialOf(a)]], cond: {} });
  },
  domain: {
    input: (_spec, [d = real]) => [d, d],
    image: (_spec, [a = real, b = real]) => [hull(a, b)],
  },
  params: noParams,
  ...algebraic<ConcatSpec>({
    forward: (o, _spec, _p, xs) => {
      const [a, b] = inputsOf(xs, 2);
      return { outs: [o.concatLast([a, b])], logDet: zeroLogDet(o, a) };
    },
    inverse: (o, { shapes: [a, b] }, _p, ys) => {
      const [y] = inputsOf(ys, 1);
      return { outs: o.splitLast(y, [a[0] as number, b[0] as number]), logDet: zeroLogDet(o, y) };
    },
  }),
  inverseCost: 'analytic',
});
