/**
 * Couplings generic over an elementwise transformer (as in FlowJAX, zuko and nflows), written on the
 * op algebra.
 *
 * Split x = [x1, x2] on channels, x1 the first floor(C/2). A network reads [x1, cond...] (concatenated
 * on channels) and gives, for every element of x2, the transformer's parameters; the transformer maps
 * x2 elementwise. x1 passes unchanged, so the Jacobian is block triangular and log|det J| is the sum of
 * the transformer's elementwise log-derivatives. The network's last layer starts at zero, and every
 * transformer is the identity at zero parameters, so a fresh coupling is the identity.
 *
 * An injector (`conditionalAffine`) is the same transformer with parameters from the conditioning only,
 * applied to every channel.
 */
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { algebraic } from '../../algebra/define.js';
import { branch, inputsOf, type AlgebraMaths, type Context, type Ops, type ValueTree } from '../../algebra/ops.js';
import { initNet, netOn, netParamShapes, type NetWidths } from '../../layers/net.js';
import type { NetSpec } from '../../layers/spec.js';
import { checkShape, defineBijector, ontoReals, singleTensor, type BijectorDefinition, type Maths, type SignatureResult } from '../definition.js';
import type { SpecIssue } from '../errors.js';
import { formatShape, tensorShape, type CondShapes, type Shape } from '../shape.js';
import { checkCond, checkNet, conditioningChannels, conditioningTensors, conditioningValues, passThroughChannels } from './conditioning.js';
import type { BoundTransformer, ElementwiseResult } from './elementwise.js';

export type { Transformer } from './elementwise.js';

/** The fields every coupling has. */
export interface CouplingFields {
  readonly shape: Shape;
  /** Named conditioning inputs concatenated to x1 at the network's input. */
  readonly cond: CondShapes;
  readonly net: NetSpec;
}

/** A layer's transformer, bound to its fields, from the layer's spec. */
export type TransformerOf<S> = (spec: S) => BoundTransformer;

/** A bound transformer's maths in one direction. */
export const runTransformer = <T>({ transformer, fields }: BoundTransformer, o: Ops<T>, inverse: boolean, z: T, raw: T, dims: readonly number[]): ElementwiseResult<T> =>
  (inverse ? transformer.inverse : transformer.forward)(o, fields, z, raw, dims);

/** Values per element of a bound transformer. */
export const valuesPerElement = ({ transformer, fields }: BoundTransformer): number => transformer.valuesPerElement(fields);

const couplingWidths = (shape: Shape, cond: CondShapes, perElement: number): NetWidths => {
  const c = shape[0] as number;
  return { cIn: passThroughChannels(c) + conditioningChannels(cond), cOut: perElement * (c - passThroughChannels(c)) };
};

/** The params rule of a layer holding one net of these widths. */
export const netParams = <S extends { readonly net: NetSpec }>(widths: (spec: S) => NetWidths) => ({
  shapes: (spec: S) => {
    const { cIn, cOut } = widths(spec);
    return { net: netParamShapes(spec.net, cIn, cOut) };
  },
  init: (spec: S, { nextSeed }: { nextSeed: () => number }) => {
    const { cIn, cOut } = widths(spec);
    return { net: initNet(spec.net, cIn, cOut, nextSeed) };
  },
  frozen: [],
  // Conv kernels multiply their input.
  mixing: ['kernel'],
});

/**
 * The tfjs passes of conditioned maths: the conditioning tensors are checked against their declared
 * shapes first (a check only tfjs values allow: they carry their shapes), then the maths runs.
 */
export const conditionedPasses = <S extends { readonly cond: CondShapes }>(maths: { readonly forward: AlgebraMaths<S>; readonly inverse: AlgebraMaths<S> }) => {
  const passes = algebraic<S>(maths);
  const checked =
    (pass: Maths<S>): Maths<S> =>
    (spec, params, xs, ctx) => {
      conditioningTensors(spec.cond, ctx, xs[0]?.shape[0] ?? 0);
      return pass(spec, params, xs, ctx);
    };
  return { ...passes, forward: checked(passes.forward), inverse: checked(passes.inverse) };
};

/** The shape rule of a conditioned layer: its shape, conditioning, net and transformer fields, then its own `extra` checks. */
const conditionedSignature =
  <S extends CouplingFields>(transformerOf: TransformerOf<S>, transformerAt: (path: string) => string, extra: (spec: S, path: string) => SpecIssue[]) =>
  (spec: S, path: string): SignatureResult => {
    const shapeIssues = checkShape(spec.shape, `${path}.shape`);
    if (shapeIssues.length > 0) return E.left(shapeIssues);
    const { transformer, fields } = transformerOf(spec);
    const issues = [...checkCond(spec.cond, spec.shape, path), ...checkNet(spec.net, spec.shape, path), ...transformer.checks(fields, transformerAt(path)), ...extra(spec, path)];
    return issues.length > 0 ? E.left(issues) : singleTensor(spec.shape, spec.shape, spec.cond);
  };

/** The tensor dimensions (no batch axis, channels last) of an event with `c` channels and the spatial size of `shape`. */
const dimsWith = (shape: Shape, c: number): number[] => tensorShape([c, ...shape.slice(1)], 1).slice(1);

/**
 * The definition of a coupling kind from its codec and how its spec names a transformer (`transformerAt`:
 * where in the spec the transformer's fields are, for messages).
 */
export const couplingKind = <S extends CouplingFields & { readonly kind: string }>(
  kind: S['kind'],
  codec: t.Type<S, unknown, unknown>,
  transformerOf: TransformerOf<S>,
  transformerAt: (path: string) => string = (path) => path,
): BijectorDefinition<S> => {
  const pass =
    (inverse: boolean): AlgebraMaths<S> =>
    <T>(o: Ops<T>, spec: S, p: ValueTree<T>, xs: readonly T[], ctx: Context<T>) => {
      const [x] = inputsOf(xs, 1);
      const c = spec.shape[0] as number;
      const c1 = passThroughChannels(c);
      const [x1, x2] = o.splitLast(x, [c1, c - c1]) as [T, T];
      const tr = transformerOf(spec);
      const widths = couplingWidths(spec.shape, spec.cond, valuesPerElement(tr));
      const raw = netOn(o, spec.net, branch(o, p, 'net'), o.concatLast([x1, ...conditioningValues(spec.cond, ctx)]), widths);
      const { out, logDet } = runTransformer(tr, o, inverse, x2, raw, dimsWith(spec.shape, c - c1));
      return { outs: [o.concatLast([x1, out])], logDet };
    };
  return defineBijector<S>({
    kind,
    codec,
    ranks: 'any',
    signature: conditionedSignature(transformerOf, transformerAt, (spec, path) =>
      (spec.shape[0] as number) < 2 ? [{ path: `${path}.shape`, message: `a coupling needs at least 2 channels to split, got ${formatShape(spec.shape)}` }] : [],
    ),
    domain: ontoReals,
    params: netParams<S>((spec) => couplingWidths(spec.shape, spec.cond, valuesPerElement(transformerOf(spec)))),
    ...conditionedPasses<S>({ forward: pass(false), inverse: pass(true) }),
    inverseCost: 'analytic',
  });
};

/** The definition of an injector: the transformer on every channel, its parameters from the conditioning alone. */
export const injectorKind = <S extends CouplingFields & { readonly kind: string }>(
  kind: S['kind'],
  codec: t.Type<S, unknown, unknown>,
  transformerOf: TransformerOf<S>,
): BijectorDefinition<S> => {
  const widths = (spec: S): NetWidths => ({ cIn: conditioningChannels(spec.cond), cOut: valuesPerElement(transformerOf(spec)) * (spec.shape[0] as number) });
  const pass =
    (inverse: boolean): AlgebraMaths<S> =>
    <T>(o: Ops<T>, spec: S, p: ValueTree<T>, xs: readonly T[], ctx: Context<T>) => {
      const [x] = inputsOf(xs, 1);
      const raw = netOn(o, spec.net, branch(o, p, 'net'), o.concatLast(conditioningValues(spec.cond, ctx)), widths(spec));
      const { out, logDet } = runTransformer(transformerOf(spec), o, inverse, x, raw, dimsWith(spec.shape, spec.shape[0] as number));
      return { outs: [out], logDet };
    };
  return defineBijector<S>({
    kind,
    codec,
    ranks: 'any',
    signature: conditionedSignature(transformerOf, (path) => path, (spec, path) =>
      Object.keys(spec.cond).length === 0 ? [{ path: `${path}.cond`, message: `a ${kind} layer needs at least one conditioning input` }] : [],
    ),
    domain: ontoReals,
    params: netParams<S>(widths),
    ...conditionedPasses<S>({ forward: pass(false), inverse: pass(true) }),
    inverseCost: 'analytic',
  });
};
