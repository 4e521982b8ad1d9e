/**
 * Couplings generic over an elementwise transformer (as in FlowJAX, zuko and nflows).
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
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { applyNet, initNet, netParamShapes } from '../../layers/net.js';
import type { NetSpec } from '../../layers/spec.js';
import { checkShape, defineBijector, ontoReals, one, unary, type BijectorDefinition, type Context, type SignatureResult } from '../definition.js';
import type { SpecIssue } from '../errors.js';
import type { ParamRecord } from '../params.js';
import { formatShape, type CondShapes, type Shape } from '../shape.js';
import { subtree } from './common.js';
import { checkCond, checkNet, conditioningChannels, networkInput, passThroughChannels, splitHalves } from './conditioning.js';

/** An elementwise bijection whose parameters come from a network, `valuesPerElement` per element. */
export interface Transformer<S> {
  readonly valuesPerElement: (spec: S) => number;
  /**
   * z: the elements to transform, channels-last with c channels; raw: the network's output, the same
   * spatial size with valuesPerElement * c channels. Returns the transformed z and log|det| per sample.
   */
  readonly forward: (spec: S, z: tf.Tensor, raw: tf.Tensor) => { readonly out: tf.Tensor; readonly logDet: tf.Tensor1D };
  readonly inverse: (spec: S, z: tf.Tensor, raw: tf.Tensor) => { readonly out: tf.Tensor; readonly logDet: tf.Tensor1D };
  /** Checks of the transformer's own fields. */
  readonly checks: (spec: S, path: string) => SpecIssue[];
}

/** The fields every coupling has. */
export interface CouplingFields {
  readonly shape: Shape;
  /** Named conditioning inputs concatenated to x1 at the network's input. */
  readonly cond: CondShapes;
  readonly net: NetSpec;
}

const couplingWidths = (shape: Shape, cond: CondShapes, perElement: number): { cIn: number; cOut: number } => {
  const c = shape[0] as number;
  return { cIn: passThroughChannels(c) + conditioningChannels(cond), cOut: perElement * (c - passThroughChannels(c)) };
};

const netParams = <S extends CouplingFields>(widths: (spec: S) => { cIn: number; cOut: number }) => ({
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

/** The shape rule of a conditioned layer: its shape, conditioning, net and transformer fields, then its own `extra` checks. */
const conditionedSignature =
  <S extends CouplingFields>(transformer: Transformer<S>, extra: (spec: S, path: string) => SpecIssue[]) =>
  (spec: S, path: string): SignatureResult => {
    const shapeIssues = checkShape(spec.shape, `${path}.shape`);
    if (shapeIssues.length > 0) return E.left(shapeIssues);
    const issues = [...checkCond(spec.cond, spec.shape, path), ...checkNet(spec.net, spec.shape, path), ...transformer.checks(spec, path), ...extra(spec, path)];
    return issues.length > 0 ? E.left(issues) : one(spec.shape, spec.shape, spec.cond);
  };

/** The definition of a coupling kind from its codec and transformer. */
export const couplingDefinition = <S extends CouplingFields & { readonly kind: string }>(
  kind: S['kind'],
  codec: t.Type<S, unknown, unknown>,
  transformer: Transformer<S>,
): BijectorDefinition<S> => {
  // Tidied, so the maths called on its own (outside an interpreter's tidy) leaves only its outputs.
  const pass = (spec: S, p: ParamRecord, x: tf.Tensor, ctx: Context, inverse: boolean) =>
    tf.tidy(() => {
      const [x1, x2] = splitHalves(x);
      const raw = applyNet(spec.net, subtree(p, 'net'), networkInput(x1, spec.cond, ctx, x.shape[0] as number));
      const { out, logDet } = (inverse ? transformer.inverse : transformer.forward)(spec, x2, raw);
      return { out: tf.concat([x1, out], x.rank - 1), logDet };
    });
  return defineBijector<S>({
    kind,
    codec,
    ranks: 'any',
    signature: conditionedSignature(transformer, (spec, path) =>
      (spec.shape[0] as number) < 2 ? [{ path: `${path}.shape`, message: `a coupling needs at least 2 channels to split, got ${formatShape(spec.shape)}` }] : [],
    ),
    domain: ontoReals,
    params: netParams<S>((spec) => couplingWidths(spec.shape, spec.cond, transformer.valuesPerElement(spec))),
    forward: unary((spec, p, x, ctx) => pass(spec, p, x, ctx, false)),
    inverse: unary((spec, p, y, ctx) => pass(spec, p, y, ctx, true)),
    inverseCost: 'analytic',
  });
};

/** The definition of an injector: the transformer on every channel, its parameters from the conditioning alone. */
export const injectorDefinition = <S extends CouplingFields & { readonly kind: string }>(
  kind: S['kind'],
  codec: t.Type<S, unknown, unknown>,
  transformer: Transformer<S>,
): BijectorDefinition<S> => {
  const pass = (spec: S, p: ParamRecord, x: tf.Tensor, ctx: Context, inverse: boolean) =>
    tf.tidy(() => {
      const raw = applyNet(spec.net, subtree(p, 'net'), networkInput(undefined, spec.cond, ctx, x.shape[0] as number));
      return (inverse ? transformer.inverse : transformer.forward)(spec, x, raw);
    });
  return defineBijector<S>({
    kind,
    codec,
    ranks: 'any',
    signature: conditionedSignature(transformer, (spec, path) =>
      Object.keys(spec.cond).length === 0 ? [{ path: `${path}.cond`, message: `a ${kind} layer needs at least one conditioning input` }] : [],
    ),
    domain: ontoReals,
    params: netParams<S>((spec) => ({ cIn: conditioningChannels(spec.cond), cOut: transformer.valuesPerElement(spec) * (spec.shape[0] as number) })),
    forward: unary((spec, p, x, ctx) => pass(spec, p, x, ctx, false)),
    inverse: unary((spec, p, y, ctx) => pass(spec, p, y, ctx, true)),
    inverseCost: 'analytic',
  });
};
