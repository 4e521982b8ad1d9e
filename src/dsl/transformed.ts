/**
 * The layers generic over every registered transformer (src/dsl/maths/elementwise.ts): `coupling`
 * (the mechanics of src/dsl/maths/coupling.ts) and `autoregressive` (a MAF layer, the mechanics of
 * src/dsl/maths/autoregressive.ts), each naming its transformer by a transformer spec such as
 * `{ kind: 'spline', bins: 8, bound: 3 }` or `{ kind: 'sinhArcsinh' }`. The transformers are the
 * registry's `<name>Transformer` exports, so a new elementwise kind that exports one is usable here
 * with no line in this file. `affineCoupling`, `additiveCoupling`, `splineCoupling` and
 * `maskedAutoregressive` are the older spellings of the same layers (their specs and checkpoints are
 * unchanged).
 *
 * Like the combinators these read the registry, so they live outside src/dsl/bijectors.
 */
import type * as t from 'io-ts';
import { made, convNet, type NetSpec } from '../layers/spec.js';
import * as catalogue from './bijectors/index.js';
import { CondCodec, NetSpecCodec, nodeCodec, shapeCodec, taggedUnion } from './codec-parts.js';
import { autoregressiveKind } from './maths/autoregressive.js';
import { couplingKind } from './maths/coupling.js';
import { bindTransformer, type Transformer } from './maths/elementwise.js';
import { inverted, primitive } from './primitive.js';
import type { CondShapes, NoCond, Shape, Shape1 } from './shape.js';
import type { Bijector, Flow } from './spec.js';

const isTransformer = (v: unknown): v is Transformer<unknown> =>
  typeof v === 'object' && v !== null && 'kind' in v && 'valuesPerElement' in v && 'layout' in v && 'forward' in v && 'inverse' in v;

/** Every registered transformer by name, in registry order. */
export const transformers: ReadonlyMap<string, Transformer<unknown>> = new Map(
  (Object.values(catalogue) as unknown[]).filter(isTransformer).map((tr) => [tr.kind, tr]),
);

/** A transformer spec: its `kind` (a registered transformer's name) and that transformer's own fields. */
export type TransformerSpecOf = { readonly kind: string } & { readonly [field: string]: unknown };

const AnyTransformerCodec = taggedUnion('a transformer', Object.fromEntries([...transformers].map(([kind, tr]) => [kind, tr.codec]))) as unknown as t.Type<
  TransformerSpecOf,
  unknown,
  unknown
>;

/** Stands for a transformer name that is not registered: its checks say so (the spec is refused before any maths runs). */
const unregistered = (kind: string): Transformer<unknown> => {
  const refuse = (): never => {
    throw new TypeError(`no transformer '${kind}' is registered`);
  };
  return {
    kind,
    codec: AnyTransformerCodec as unknown as t.Type<unknown, unknown, unknown>,
    valuesPerElement: refuse,
    layout: 'blocks',
    forward: refuse,
    inverse: refuse,
    checks: (_fields, at) => [{ path: `${at}.kind`, message: `unknown transformer ${JSON.stringify(kind)}; registered: ${[...transformers.keys()].join(', ')}` }],
  };
};

const bound = (ts: TransformerSpecOf) => bindTransformer(transformers.get(ts.kind) ?? unregistered(String(ts.kind)), ts);

const couplingCodec = nodeCodec('coupling', { shape: shapeCodec(), cond: CondCodec, net: NetSpecCodec, transformer: AnyTransformerCodec });
/** The JSON spec of a generic `coupling` node: event shape, conditioning, net and transformer spec. */
export type CouplingSpec = t.TypeOf<typeof couplingCodec>;

const autoregressiveCodec = nodeCodec('autoregressive', { shape: shapeCodec([1]), cond: CondCodec, net: NetSpecCodec, transformer: AnyTransformerCodec });
/** The JSON spec of a generic `autoregressive` node: vector event shape, context shapes, MADE net and transformer spec. */
export type AutoregressiveSpec = t.TypeOf<typeof autoregressiveCodec>;

export const couplingDefinition = couplingKind<CouplingSpec>('coupling', couplingCodec, (spec) => bound(spec.transformer), (path) => `${path}.transformer`);
export const autoregressiveDefinition = autoregressiveKind<AutoregressiveSpec>('autoregressive', autoregressiveCodec, (spec) => bound(spec.transformer));

/** Options of `coupling`, `autoregressive` and `inverseAutoregressiveWith`. */
export interface TransformedOptions<C extends CondShapes> {
  /** Named conditioning inputs the net also reads. */
  readonly cond?: C;
  /** A coupling's convNet or mlp (default convNet()); an autoregressive layer's made (default made()). */
  readonly net?: NetSpec;
}

/** A coupling with any registered transformer: x1 passes, x2 is transformed with parameters NN([x1, cond...]). */
export const coupling = <const S extends Shape, const C extends CondShapes = NoCond>(
  shape: S,
  transformer: TransformerSpecOf,
  options: TransformedOptions<C> = {},
): Bijector<S, S, C> => primitive(couplingDefinition, { kind: 'coupling', shape, cond: options.cond ?? {}, net: options.net ?? convNet(), transformer });

/** A masked autoregressive layer (MAF) with any registered transformer: forward in one pass, inverse in D. */
export const autoregressive = <const S extends Shape1, const C extends CondShapes = NoCond>(
  shape: S,
  transformer: TransformerSpecOf,
  options: TransformedOptions<C> = {},
): Bijector<S, S, C> => primitive(autoregressiveDefinition, { kind: 'autoregressive', shape, cond: options.cond ?? {}, net: options.net ?? made(), transformer });

/** IAF with any registered transformer: `invert(autoregressive(...))`. */
export const inverseAutoregressiveWith = <const S extends Shape1, const C extends CondShapes = NoCond>(
  shape: S,
  transformer: TransformerSpecOf,
  options: TransformedOptions<C> = {},
): Flow<readonly [S], readonly [S], C> => inverted(autoregressive(shape, transformer, options));
