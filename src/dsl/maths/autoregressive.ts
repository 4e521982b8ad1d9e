/**
 * Masked autoregressive layers generic over an elementwise transformer, written on the op algebra
 * (the maths is stated in src/dsl/bijectors/masked-autoregressive.ts). A MADE gives m values per
 * element in blocks (channel o -> element o mod D); a transformer whose layout is element-major gets
 * them transposed. Forward (data -> noise) is one pass; the inverse is D sequential passes
 * (`o.iterate`), each fixing one more element in the order.
 */
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { branch, inputsOf, zeroLogDet, type AlgebraMaths, type Context, type Ops, type ValueTree } from '../../algebra/ops.js';
import type { NetWidths } from '../../layers/net.js';
import { netOn } from '../../layers/net.js';
import { checkShape, defineBijector, ontoReals, singleTensor, type BijectorDefinition } from '../definition.js';
import { checkCond, checkNet, conditioningChannels, conditioningValues } from './conditioning.js';
import { conditionedPasses, netParams, runTransformer, valuesPerElement, type CouplingFields, type TransformerOf } from './coupling.js';


/** The definition of an autoregressive kind from its codec and how its spec names a transformer. */
export const autoregressiveKind = <S extends CouplingFields & { readonly kind: string }>(
  kind: S['kind'],
  codec: t.Type<S, unknown, unknown>,
  transformerOf: TransformerOf<S>,
): BijectorDefinition<S> => {
  const widths = (spec: S): NetWidths => {
    const d = spec.shape[0] as number;
    return { cIn: d + conditioningChannels(spec.cond), cOut: valuesPerElement(transformerOf(spec)) * d };
  };
  /** The net's outputs on [x, cond...], in the transformer's layout. */
  const parametersAt = <T>(o: Ops<T>, spec: S, p: ValueTree<T>, x: T, ctx: Context<T>): T => {
    const d = spec.shape[0] as number;
    const raw = netOn(o, spec.net, branch(o, p, 'net'), o.concatLast([x, ...conditioningValues(spec.cond, ctx)]), widths(spec), d);
    const tr = transformerOf(spec);
    if (tr.transformer.layout === 'blocks') return raw;
    const m = valuesPerElement(tr);
    return o.reshape(o.transpose(o.reshape(raw, [m, d]), [0, 2, 1]), [d * m]);
  };
  // data -> noise: one pass.
  const forward: AlgebraMaths<S> = (o, spec, p, xs, ctx) => {
    const [x] = inputsOf(xs, 1);
    const { out, logDet } = runTransformer(transformerOf(spec), o, false, x, parametersAt(o, spec, p, x, ctx), spec.shape);
    return { outs: [out], logDet };
  };
  // noise -> data: D passes, each fixing one more element in the order; the last pass's log-det is the true one.
  const inverse: AlgebraMaths<S> = (o, spec, p, zs, ctx) => {
    const [z] = inputsOf(zs, 1);
    const [x, logDet] = o.iterate(spec.shape[0] as number, [o.zerosLike(z), zeroLogDet(o, z)], (_i, [xk]) => {
      const { out, logDet: ld } = runTransformer(transformerOf(spec), o, true, z, parametersAt(o, spec, p, xk as typeof z, ctx), spec.shape);
      return [out, ld];
    }) as [typeof z, typeof z];
    return { outs: [x], logDet };
  };
  return defineBijector<S>({
    kind,
    codec,
    ranks: [1],
    signature: (spec, path) => {
      const shapeIssues = checkShape(spec.shape, `${path}.shape`, [1]);
      if (shapeIssues.length > 0) return E.left(shapeIssues);
      const { transformer, fields } = transformerOf(spec);
      const issues = [...checkCond(spec.cond, spec.shape, path), ...checkNet(spec.net, spec.shape, path, 'autoregressive'), ...transformer.checks(fields, `${path}.transformer`)];
      return issues.length > 0 ? E.left(issues) : singleTensor(spec.shape, spec.shape, spec.cond);
    },
    domain: ontoReals,
    params: netParams<S>(widths),
    ...conditionedPasses<S>({ forward, inverse }),
    inverseCost: 'sequential',
  });
};
