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
 * identity. The mechanics are src/dsl/maths/autoregressive.ts; this kind is the older spelling of
 * `autoregressive` (src/dsl/transformed.ts), which takes any registered transformer.
 */
import type * as t from 'io-ts';
import { made, type NetSpec } from '../../layers/spec.js';
import { CondCodec, NetSpecCodec, nodeCodec, shapeCodec, taggedUnion } from '../codec-parts.js';
import { autoregressiveKind } from '../maths/autoregressive.js';
import { bindTransformer, type Transformer } from '../maths/elementwise.js';
import { inverted, primitive } from '../primitive.js';
import type { CondShapes, NoCond, Shape1 } from '../shape.js';
import type { Bijector, Flow } from '../spec.js';
import { additiveTransformer } from '../transformers/additive.js';
import { affineTransformer } from '../transformers/affine.js';
import { splineTransformer } from '../transformers/spline.js';

/** The transformers this spelling names by `transformer.kind` (the generic `autoregressive` kind takes any registered one). */
const transformers = { affine: affineTransformer, additive: additiveTransformer, spline: splineTransformer };

const TransformerCodec = taggedUnion('a transformer', {
  affine: affineTransformer.codec,
  additive: additiveTransformer.codec,
  spline: splineTransformer.codec,
});
/** The elementwise transformer of an autoregressive layer and its settings: affine (clamp), additive, or spline (bins, bound). */
export type TransformerSpec = t.TypeOf<typeof TransformerCodec>;

const codec = nodeCodec('maskedAutoregressive', { shape: shapeCodec([1]), cond: CondCodec, net: NetSpecCodec, transformer: TransformerCodec });
/** The JSON spec of a `maskedAutoregressive` node: vector event shape, context shapes, MADE net and transformer. */
export type MaskedAutoregressiveSpec = t.TypeOf<typeof codec>;

/** Options of `maskedAutoregressive` and `inverseAutoregressive`. */
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
  primitive(maskedAutoregressiveDefinition, { kind: 'maskedAutoregressive', shape, cond: options.cond ?? {}, net: options.net ?? made(), transformer: transformerSpec(options) });

/** IAF: `invert(maskedAutoregressive(...))`; forward (data -> noise) sequential, inverse (sampling) one pass. */
export const inverseAutoregressive = <const S extends Shape1, const C extends CondShapes = NoCond>(
  shape: S,
  options: AutoregressiveOptions<C> = {},
): Flow<readonly [S], readonly [S], C> => inverted(maskedAutoregressive(shape, options));

/** The `maskedAutoregressive` kind: the generic autoregressive layer with the transformer its spec names. */
export const maskedAutoregressiveDefinition = autoregressiveKind<MaskedAutoregressiveSpec>('maskedAutoregressive', codec, (spec) =>
  bindTransformer(transformers[spec.transformer.kind] as Transformer<TransformerSpec>, spec.transformer),
);
