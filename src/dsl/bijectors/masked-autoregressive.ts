/**
 * Masked autoregressive flow (MAF, Papamakarios et al. 2017) on vectors [D], generic over the
 * elementwise transformers (affine with soft clamp, additive, rational-quadratic spline: the NSF
 * autoregressive layer of Durkan et al. 2019), optionally conditioned on context vectors.
 *
 * Convention: forward is the density direction, data -> noise, in ONE pass. With a MADE net in an order
 * pi (src/layers/mlp.ts), theta = MADE([x, cond...]) gives for every element d parameters theta_d that
 * depend only on the x_j before d in the order (and on the context), and
 *   z_d = tau(x_d; theta_d(x_<d, cond)),   log|det dz/dx| = sum_d log tau'(x_d; theta_d),
 * since dz/dx is triangular in the order (diagonal tau'). The inverse (noise -> data, sampling) is
 * sequential, D passes of the net: x^0 = 0, x^{k+1} = tau^{-1}(z; MADE([x^k, cond])); after pass k the
 * first k elements in the order are exact, so x^D = x, and the last pass's parameters are the true
 * theta(x), giving log|det dx/dz| = -sum_d log tau'(x_d; theta_d). Hence `inverseCost: 'sequential'`.
 *
 * IAF (Kingma et al. 2016) is this layer inverted: `inverseAutoregressive(...)` is
 * `invert(maskedAutoregressive(...))`, whose forward (data -> noise) is the sequential pass and whose
 * inverse (sampling) is the one-pass one.
 *
 * Transformers (`transformer.kind`): 'affine' z = x exp(s) + t, s = clamp (2/pi) atan(s_raw);
 * 'additive' z = x + t; 'spline' the RQ spline on [-bound, bound] with `bins` bins and identity (linear)
 * tails outside it, so values and gradients are finite everywhere. The MADE outputs m values per element
 * in blocks (channel o -> element o mod D); the spline's layout (element-major) is a transpose of it.
 * The net's output layer is zero and every transformer is the identity at zero, so a fresh layer is the
 * identity.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { applyNet, initNet, netParamShapes } from '../../layers/net.js';
import { made, type NetSpec } from '../../layers/spec.js';
import { built } from '../build.js';
import { CondCodec, NetSpecCodec, nodeCodec, num, shapeCodec, strictObject, tag, taggedUnion } from '../codec-parts.js';
import { invert } from '../combinators.js';
import { checkShape, defineBijector, ontoReals, one, unary, type Context } from '../definition.js';
import type { SpecIssue } from '../errors.js';
import type { ParamRecord } from '../params.js';
import type { CondShapes, NoCond, Shape1 } from '../shape.js';
import type { Bijector, Flow } from '../spec.js';
import { subtree } from '../maths/common.js';
import { checkCond, checkNet, conditioningChannels, networkInput } from '../maths/conditioning.js';
import type { Transformer } from '../maths/coupling.js';
import { additiveTransformer } from '../transformers/additive.js';
import { affineTransformer } from '../transformers/affine.js';
import { splineTransformer } from '../transformers/spline.js';

const TransformerCodec = taggedUnion('a transformer', {
  affine: strictObject("an 'affine' transformer", { kind: tag('affine'), clamp: num }),
  additive: strictObject("an 'additive' transformer", { kind: tag('additive') }),
  spline: strictObject("a 'spline' transformer", { kind: tag('spline'), bins: num, bound: num }),
});
export type TransformerSpec = t.TypeOf<typeof TransformerCodec>;

const codec = nodeCodec('maskedAutoregressive', { shape: shapeCodec([1]), cond: CondCodec, net: NetSpecCodec, transformer: TransformerCodec });
export type MaskedAutoregressiveSpec = t.TypeOf<typeof codec>;

export interface AutoregressiveOptions<C extends CondShapes> {
  /** 'affine' (default), 'additive' or 'spline' (NSF). */
  readonly transformer?: TransformerSpec['kind'];
  /** A made net (default made({ hidden: [64, 64] })). */
  readonly net?: NetSpec;
  /** Context vectors {name: [K]} every output may see. */
  readonly cond?: C;
  /** Affine: bound on |s| (default 2). */
  readonly clamp?: number;
  /** Spline: number of bins (default 8). */
  readonly bins?: number;
  /** Spline: half-width of the spline's interval (default 3). */
  readonly bound?: number;
}

const transformerSpec = (o: AutoregressiveOptions<CondShapes>): TransformerSpec => {
  const kind: TransformerSpec['kind'] = o.transformer ?? 'affine';
  switch (kind) {
    case 'affine':
      return { kind: 'affine', clamp: o.clamp ?? 2 };
    case 'additive':
      return { kind: 'additive' };
    case 'spline':
      return { kind: 'spline', bins: o.bins ?? 8, bound: o.bound ?? 3 };
  }
};

/** MAF: forward (data -> noise) in one pass, inverse (sampling) in D sequential passes. */
export const maskedAutoregressive = <const S extends Shape1, const C extends CondShapes = NoCond>(
  shape: S,
  options: AutoregressiveOptions<C> = {},
): Bijector<S, S, C> =>
  built({ kind: 'maskedAutoregressive', shape, cond: options.cond ?? {}, net: options.net ?? made(), transformer: transformerSpec(options) });

/** IAF: `invert(maskedAutoregressive(...))`; forward (data -> noise) sequential, inverse (sampling) one pass. */
export const inverseAutoregressive = <const S extends Shape1, const C extends CondShapes = NoCond>(
  shape: S,
  options: AutoregressiveOptions<C> = {},
): Flow<readonly [S], readonly [S], C> => invert(maskedAutoregressive(shape, options));

type AnyTransformer = Transformer<never>;
/** Each transformer, and whether its per-element values are element-major (else in blocks of D). */
const transformers: { readonly [K in TransformerSpec['kind']]: { readonly transformer: AnyTransformer; readonly elementMajor: boolean } } = {
  affine: { transformer: affineTransformer as AnyTransformer, elementMajor: false },
  additive: { transformer: additiveTransformer as AnyTransformer, elementMajor: false },
  spline: { transformer: splineTransformer as AnyTransformer, elementMajor: true },
};

const valuesPerElement = (ts: TransformerSpec): number => (transformers[ts.kind].transformer as Transformer<TransformerSpec>).valuesPerElement(ts);

const widths = (spec: MaskedAutoregressiveSpec): { cIn: number; cOut: number } => {
  const d = spec.shape[0] as number;
  return { cIn: d + conditioningChannels(spec.cond), cOut: valuesPerElement(spec.transformer) * d };
};

/** The net's outputs [N, m*D] (blocks) in the transformer's layout. */
const arranged = (spec: MaskedAutoregressiveSpec, raw: tf.Tensor): tf.Tensor => {
  if (!transformers[spec.transformer.kind].elementMajor) return raw;
  const d = spec.shape[0] as number;
  const n = raw.shape[0] as number;
  const m = valuesPerElement(spec.transformer);
  return tf.reshape(tf.transpose(tf.reshape(raw, [n, m, d]), [0, 2, 1]), [n, d * m]);
};

const parametersAt = (spec: MaskedAutoregressiveSpec, p: ParamRecord, x: tf.Tensor, ctx: Context): tf.Tensor =>
  arranged(spec, applyNet(spec.net, subtree(p, 'net'), networkInput(x, spec.cond, ctx, x.shape[0] as number), (spec.shape[0] as number)));

const transformerOf = (spec: MaskedAutoregressiveSpec): Transformer<TransformerSpec> =>
  transformers[spec.transformer.kind].transformer as Transformer<TransformerSpec>;

const transformerChecks = (ts: TransformerSpec, path: string): SpecIssue[] => transformerOf({ transformer: ts } as MaskedAutoregressiveSpec).checks(ts, `${path}.transformer`);

export const maskedAutoregressiveDefinition = defineBijector<MaskedAutoregressiveSpec>({
  kind: 'maskedAutoregressive',
  codec,
  ranks: [1],
  signature: (spec, path) => {
    const shapeIssues = checkShape(spec.shape, `${path}.shape`, [1]);
    if (shapeIssues.length > 0) return E.left(shapeIssues);
    const issues = [...checkCond(spec.cond, spec.shape, path), ...checkNet(spec.net, spec.shape, path, 'autoregressive'), ...transformerChecks(spec.transformer, path)];
    return issues.length > 0 ? E.left(issues) : one(spec.shape, spec.shape, spec.cond);
  },
  domain: ontoReals,
  params: {
    shapes: (spec) => {
      const { cIn, cOut } = widths(spec);
      return { net: netParamShapes(spec.net, cIn, cOut) };
    },
    init: (spec, { nextSeed }) => {
      const { cIn, cOut } = widths(spec);
      return { net: initNet(spec.net, cIn, cOut, nextSeed) };
    },
    frozen: [],
    mixing: ['kernel'],
  },
  // data -> noise: one pass.
  forward: unary((spec, p, x, ctx) => tf.tidy(() => transformerOf(spec).forward(spec.transformer, x, parametersAt(spec, p, x, ctx)))),
  // noise -> data: D passes, each fixing one more element in the order.
  inverse: unary((spec, p, z, ctx) =>
    tf.tidy(() => {
      let x: tf.Tensor = tf.zerosLike(z);
      let step = { out: x, logDet: tf.zeros([z.shape[0] as number]) as tf.Tensor1D };
      for (let k = 0; k < (spec.shape[0] as number); k++) {
        step = transformerOf(spec).inverse(spec.transformer, z, parametersAt(spec, p, x, ctx));
        x = step.out;
      }
      return step;
    }),
  ),
  inverseCost: 'sequential',
});
