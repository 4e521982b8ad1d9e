/**
 * The io-ts building blocks of spec codecs: exact objects whose errors name the field, shapes, lists
 * and records. Each bijector's definition builds its codec from these; src/dsl/codec.ts joins them.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { activations, type Activation, type MadeOrder, type NetSpec } from '../layers/spec.js';
import { isShape, shapeNotation, type Shape, type Shape3 } from './shape.js';


export const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/** A short rendering of a found value for messages. Never throws. */
export const show = (u: unknown): string => {
  if (u === undefined) return 'nothing';
  if (typeof u === 'number' || typeof u === 'bigint') return String(u);
  let s: string;
  try {
    s = JSON.stringify(u) ?? String(u);
  } catch {
    s = Array.isArray(u) ? 'an array' : typeof u === 'object' ? 'an object' : String(u);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

export const quoted = (s: string): string => `'${s}'`;

const editDistance = (a: string, b: string): number => {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
};

/** The candidate closest to `word` (case-insensitive), if it is plausibly a misspelling of it. */
export const closest = (word: string, candidates: readonly string[]): string | undefined => {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
};

/** Codecs whose children are addressed by index (`[i]` in paths). */
export const indexed = new WeakSet<t.Decoder<unknown, unknown>>();


/** A finite number (JSON has no NaN or Infinity). Ranges and integrality are the shape interpreter's. */
export const num = new t.Type<number, number, unknown>(
  'a number',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
  (u, c) =>
    typeof u === 'number' && Number.isFinite(u)
      ? t.success(u)
      : t.failure(u, c, typeof u === 'number' ? `expected a finite number, found ${show(u)}` : `expected a number, found ${show(u)}`),
  t.identity,
);

/** An event shape of positive integers, of one of `ranks` when given (any rank otherwise). */
export function shapeCodec(ranks: readonly [3]): t.Type<Shape3, Shape3, unknown>;
export function shapeCodec(ranks?: readonly number[]): t.Type<Shape, Shape, unknown>;
export function shapeCodec(ranks?: readonly number[]): t.Type<Shape, Shape, unknown> | t.Type<Shape3, Shape3, unknown> {
  const what = shapeNotation(ranks);
  const is = (u: unknown): u is Shape => isShape(u, ranks);
  return new t.Type<Shape, Shape, unknown>(
    what,
    is,
    (u, c) => (is(u) ? t.success(u) : t.failure(u, c, `expected ${what}, found ${show(u)}`)),
    (s) => [...s],
  );
}

const isKernels = (u: unknown): u is readonly [number, number, number] =>
  Array.isArray(u) && u.length === 3 && u.every((k) => num.is(k));

/** Three kernel sizes (the shape interpreter checks that they are odd and positive). */
export const KernelsC = new t.Type<readonly [number, number, number], readonly [number, number, number], unknown>(
  'three kernel sizes [k0,k1,k2]',
  isKernels,
  (u, c) => (isKernels(u) ? t.success(u) : t.failure(u, c, `expected three kernel sizes [k0,k1,k2], found ${show(u)}`)),
  (k) => [k[0], k[1], k[2]],
);

/** A fixed string tag (the `kind` of a node the dispatcher has already chosen, or of a net). */
export const tag = <K extends string>(kind: K) =>
  new t.Type<K, K, unknown>(
    quoted(kind),
    (u): u is K => u === kind,
    (u, c) => (u === kind ? t.success(kind) : t.failure(u, c, `expected kind ${quoted(kind)}, found ${show(u)}`)),
    t.identity,
  );


/** A list of `item`s. */
export const listOf = <A, O>(what: string, item: t.Type<A, O, unknown>) => {
  const codec: t.Type<readonly A[], readonly O[], unknown> = new t.Type<readonly A[], readonly O[], unknown>(
    what,
    (u): u is readonly A[] => Array.isArray(u) && u.every((x) => item.is(x)),
    (u, c) => {
      if (!Array.isArray(u)) return t.failure(u, c, `expected ${what}, found ${show(u)}`);
      const errors = u.flatMap((x: unknown, i) => {
        const r = item.validate(x, t.appendContext(c, String(i), item, x));
        return E.isLeft(r) ? r.left : [];
      });
      return errors.length > 0 ? t.failures(errors) : t.success(u as readonly A[]);
    },
    (a) => a.map((x) => item.encode(x)),
  );
  indexed.add(codec);
  return codec;
};

/** A record of named `value`s (names are free; the order of the names is kept). */
export const recordOf = <A, O>(what: string, value: t.Type<A, O, unknown>) =>
  new t.Type<{ readonly [name: string]: A }, { readonly [name: string]: O }, unknown>(
    what,
    (u): u is { readonly [name: string]: A } => isRecord(u) && Object.values(u).every((x) => value.is(x)),
    (u, c) => {
      if (!isRecord(u)) return t.failure(u, c, `expected ${what}, found ${show(u)}`);
      const errors = Object.entries(u).flatMap(([k, x]) => {
        const r = value.validate(x, t.appendContext(c, k, value, x));
        return E.isLeft(r) ? r.left : [];
      });
      return errors.length > 0 ? t.failures(errors) : t.success(u as { readonly [name: string]: A });
    },
    // fromEntries defines own properties, so a name such as `__proto__` stays a plain field.
    (a) => Object.fromEntries(Object.entries(a).map(([k, x]) => [k, value.encode(x)])),
  );

type TypeOfProps<P extends t.Props> = { readonly [K in keyof P]: t.TypeOf<P[K]> };
type OutputOfProps<P extends t.Props> = { readonly [K in keyof P]: t.OutputOf<P[K]> };
type PartialOfProps<P extends t.Props> = { readonly [K in keyof P]?: t.TypeOf<P[K]> };
type PartialOutputOfProps<P extends t.Props> = { readonly [K in keyof P]?: t.OutputOf<P[K]> };

/**
 * An object with exactly the fields of `props`, and any of the fields of `optional`: a missing field,
 * a field of the wrong type and an extra field are each reported at the field's path. An extra field
 * that looks like a misspelling of a missing one is reported once, as a misspelling. Encoding writes
 * the fields in `props` order, then the optional fields that are present (a spec written before an
 * optional field existed decodes, and encodes, unchanged).
 */
export const strictObject = <P extends t.Props, O extends t.Props = Record<never, never>>(what: string, props: P, optional?: O) => {
  const opt: t.Props = optional ?? {};
  const required = Object.keys(props);
  const keys = [...required, ...Object.keys(opt)];
  const known = (k: string): boolean => hasOwn(props, k) || hasOwn(opt, k);
  const fields = `${what} has fields ${required.join(', ')}${Object.keys(opt).length > 0 ? ` (optional: ${Object.keys(opt).join(', ')})` : ''}`;
  const codecOf = (k: string): t.Mixed => (hasOwn(props, k) ? props[k] : opt[k]) as t.Mixed;
  return new t.Type<TypeOfProps<P> & PartialOfProps<O>, OutputOfProps<P> & PartialOutputOfProps<O>, unknown>(
    what,
    (u): u is TypeOfProps<P> & PartialOfProps<O> =>
      isRecord(u) &&
      Object.keys(u).every(known) &&
      required.every((k) => hasOwn(u, k) && codecOf(k).is(u[k])) &&
      Object.keys(opt).every((k) => !hasOwn(u, k) || codecOf(k).is(u[k])),
    (u, c) => {
      if (!isRecord(u)) return t.failure(u, c, `expected ${what} (an object: ${fields}), found ${show(u)}`);
      const missing = required.filter((k) => !hasOwn(u, k));
      const extra = Object.keys(u).filter((k) => !known(k));
      const meant = new Map<string, string>();
      for (const x of extra) {
        const m = closest(x, [...missing, ...Object.keys(opt).filter((k) => !hasOwn(u, k))].filter((k) => ![...meant.values()].includes(k)));
        if (m !== undefined) meant.set(x, m);
      }
      const misspelt = new Set(meant.values());
      const errors: t.ValidationError[] = [];
      for (const k of keys) {
        const codec = codecOf(k);
        if (!hasOwn(u, k)) {
          if (hasOwn(props, k) && !misspelt.has(k)) errors.push({ value: undefined, context: t.appendContext(c, k, codec, undefined), message: `missing field ${quoted(k)} (${codec.name}); ${fields}` });
          continue;
        }
        const r = codec.validate(u[k], t.appendContext(c, k, codec, u[k]));
        if (E.isLeft(r)) errors.push(...r.left);
      }
      for (const x of extra) {
        const m = meant.get(x);
        errors.push({
          value: u[x],
          context: t.appendContext(c, x, t.unknown, u[x]),
          message: m !== undefined ? `unknown field ${quoted(x)} (did you mean ${quoted(m)}?); ${fields}` : `unknown field ${quoted(x)}; ${fields}`,
        });
      }
      return errors.length > 0 ? t.failures(errors) : t.success(u as TypeOfProps<P> & PartialOfProps<O>);
    },
    (a) => {
      const o: Record<string, unknown> = {};
      const value = a as Record<string, unknown>;
      for (const k of keys) if (hasOwn(props, k) || value[k] !== undefined) o[k] = codecOf(k).encode(value[k]);
      return o as OutputOfProps<P> & PartialOutputOfProps<O>;
    },
  );
};


/**
 * The exact codec of one node kind: `kind` plus the given fields (and optional ones), with messages
 * that name the kind ("an 'actnorm' node has fields kind, shape").
 */
export const nodeCodec = <K extends string, P extends t.Props, O extends t.Props = Record<never, never>>(kind: K, props: P, optional?: O) =>
  strictObject(`${/^[aeiou]/i.test(kind) ? 'an' : 'a'} ${quoted(kind)} node`, { kind: tag(kind), ...props } as { kind: t.Type<K, K, unknown> } & P, optional);

/** One of a fixed set of strings. */
export const oneOf = <K extends string>(what: string, values: readonly K[]) =>
  new t.Type<K, K, unknown>(
    what,
    (u): u is K => typeof u === 'string' && (values as readonly string[]).includes(u),
    (u, c) => {
      if (typeof u === 'string' && (values as readonly string[]).includes(u)) return t.success(u as K);
      const m = typeof u === 'string' ? closest(u, values) : undefined;
      return t.failure(u, c, `expected ${what} (one of ${values.join(', ')}), found ${show(u)}${m !== undefined ? ` (did you mean ${quoted(m)}?)` : ''}`);
    },
    t.identity,
  );

const ActivationC = oneOf<Activation>('an activation', activations);

/** A MADE order: 'natural', 'random' or a list of input indices (that it is a permutation is the shape interpreter's). */
const MadeOrderC = new t.Type<MadeOrder, MadeOrder, unknown>(
  "an order ('natural', 'random' or a permutation [i0,i1,...])",
  (u): u is MadeOrder => u === 'natural' || u === 'random' || (Array.isArray(u) && u.every((x) => num.is(x))),
  (u, c) =>
    u === 'natural' || u === 'random' || (Array.isArray(u) && u.every((x) => num.is(x)))
      ? t.success(u as MadeOrder)
      : t.failure(u, c, `expected an order ('natural', 'random' or a permutation [i0,i1,...]), found ${show(u)}`),
  (o) => (typeof o === 'string' ? o : [...o]),
);

const HiddenC = listOf('a list of hidden widths [h0,h1,...]', num);

/** The exact codec of each kind of network, by kind. */
const netCodecs = {
  convNet: strictObject("a 'convNet'", { kind: tag('convNet'), hidden: num, kernels: KernelsC }),
  mlp: strictObject("an 'mlp'", { kind: tag('mlp'), hidden: HiddenC, activation: ActivationC, residual: t.boolean }),
  made: strictObject("a 'made'", { kind: tag('made'), hidden: HiddenC, activation: ActivationC, order: MadeOrderC, seed: num }),
};
type NetKind = keyof typeof netCodecs;
const netKinds = Object.keys(netCodecs) as NetKind[];
const isNetKind = (k: unknown): k is NetKind => typeof k === 'string' && hasOwn(netCodecs, k);
const netCodecFor = (k: NetKind): t.Type<NetSpec, unknown, unknown> => netCodecs[k] as unknown as t.Type<NetSpec, unknown, unknown>;

/**
 * The spec of a coupling's or autoregressive layer's network: dispatched on `kind`, so the issues of a
 * net with a known kind are about that kind's fields, each at its path (`$.net.hidden[1]`).
 */
export const NetSpecCodec = new t.Type<NetSpec, NetSpec, unknown>(
  'a network spec',
  (u): u is NetSpec => isRecord(u) && isNetKind(u['kind']) && netCodecFor(u['kind']).is(u),
  (u, c) => {
    if (!isRecord(u)) return t.failure(u, c, `expected a network spec (an object with a 'kind': ${netKinds.join(', ')}), found ${show(u)}`);
    const kind = u['kind'];
    if (isNetKind(kind)) return netCodecFor(kind).validate(u, c);
    const at = t.appendContext(c, 'kind', t.string, kind);
    if (!hasOwn(u, 'kind')) return t.failure(undefined, at, `missing field 'kind'; a network is one of ${netKinds.join(', ')}`);
    const m = typeof kind === 'string' ? closest(kind, netKinds) : undefined;
    const head = m !== undefined ? `expected kind ${quoted(m)}, found ${show(kind)}` : `unknown network kind ${show(kind)}`;
    return t.failure(kind, at, `${head}; a network is one of ${netKinds.join(', ')}`);
  },
  (n) => netCodecFor(n.kind).encode(n) as NetSpec,
);

/** Named conditioning inputs and their event shapes. */
export const CondCodec = recordOf('named conditioning shapes {name: [C,...]}', shapeCodec());

/**
 * A union of exact codecs dispatched on their `kind` (a nested object such as an autoregressive
 * layer's transformer): the issues of a value with a known kind are that kind's, at their paths.
 */
export const taggedUnion = <C extends { readonly [k: string]: t.Mixed }>(what: string, codecs: C) => {
  type A = t.TypeOf<C[keyof C]>;
  const kinds = Object.keys(codecs);
  const codecOf = (k: string): t.Type<A, unknown, unknown> => codecs[k] as unknown as t.Type<A, unknown, unknown>;
  const known = (k: unknown): k is string => typeof k === 'string' && hasOwn(codecs, k);
  return new t.Type<A, unknown, unknown>(
    what,
    (u): u is A => isRecord(u) && known(u['kind']) && codecOf(u['kind']).is(u),
    (u, c) => {
      if (!isRecord(u)) return t.failure(u, c, `expected ${what} (an object with a 'kind': ${kinds.join(', ')}), found ${show(u)}`);
      const kind = u['kind'];
      if (known(kind)) return codecOf(kind).validate(u, c);
      const at = t.appendContext(c, 'kind', t.string, kind);
      if (!hasOwn(u, 'kind')) return t.failure(undefined, at, `missing field 'kind'; ${what} is one of ${kinds.join(', ')}`);
      const m = typeof kind === 'string' ? closest(kind, kinds) : undefined;
      const head = m !== undefined ? `expected kind ${quoted(m)}, found ${show(kind)}` : `unknown kind ${show(kind)}`;
      return t.failure(kind, at, `${head}; ${what} is one of ${kinds.join(', ')}`);
    },
    (a) => codecOf((a as { readonly kind: string }).kind).encode(a),
  );
};
