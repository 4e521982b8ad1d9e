/**
 * JSON encoding and decoding of specs, with io-ts.
 *
 * `FlowSpecCodec` is an io-ts codec for the whole `FlowSpec` union (recursive through `t.recursion`).
 * Every node is checked exactly: an unknown kind, a missing field, a field of the wrong type and an
 * extra field are all rejected. (`t.exact`/`t.strict` only strip extra fields, so nodes use
 * `strictObject` below, which reports them.) The union dispatches on `kind` first, so the error for a
 * node with a known kind talks about that kind's fields, not about every member of the union.
 *
 * `decodeSpec` runs the codec and then the shape interpreter, so a spec is accepted only when it is
 * well formed *and* its shapes line up. Every issue names the path of the offending node in the
 * interpreter's style (`$.steps[1].shape`) and says what was expected and what was found.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import type { Reporter } from 'io-ts/lib/Reporter.js';
import { inferShapes } from '../interpreters/shapes.js';
import type { NetSpec } from '../layers/spec.js';
import { SpecError, type SpecIssue } from './errors.js';
import { isDim, type CondShapes, type Shape3 } from './shape.js';
import type { FlowSpec, Kind } from './spec.js';

// ---------------------------------------------------------------------------------------------
// Helpers

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/** A short rendering of a found value for messages. Never throws. */
const show = (u: unknown): string => {
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

const quoted = (s: string): string => `'${s}'`;

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
const closest = (word: string, candidates: readonly string[]): string | undefined => {
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
const indexed = new WeakSet<t.Decoder<unknown, unknown>>();

// ---------------------------------------------------------------------------------------------
// Leaf codecs

/** A finite number (JSON has no NaN or Infinity). Ranges and integrality are the shape interpreter's. */
const num = new t.Type<number, number, unknown>(
  'a number',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
  (u, c) =>
    typeof u === 'number' && Number.isFinite(u)
      ? t.success(u)
      : t.failure(u, c, typeof u === 'number' ? `expected a finite number, found ${show(u)}` : `expected a number, found ${show(u)}`),
  t.identity,
);

const isShape3 = (u: unknown): u is Shape3 => Array.isArray(u) && u.length === 3 && u.every(isDim);

/** An event shape [C,H,W] of positive integers. */
const Shape3C = new t.Type<Shape3, Shape3, unknown>(
  'an event shape [C,H,W]',
  isShape3,
  (u, c) =>
    isShape3(u)
      ? t.success(u)
      : t.failure(u, c, `expected an event shape [C,H,W] of three positive integers, found ${show(u)}`),
  (s) => [s[0], s[1], s[2]],
);

const ShapePairC = new t.Type<readonly [Shape3, Shape3], readonly [Shape3, Shape3], unknown>(
  'two event shapes [[C,H,W],[C,H,W]]',
  (u): u is readonly [Shape3, Shape3] => Array.isArray(u) && u.length === 2 && u.every(isShape3),
  (u, c) => {
    if (!Array.isArray(u) || u.length !== 2) return t.failure(u, c, `expected two event shapes [[C,H,W],[C,H,W]], found ${show(u)}`);
    const errors = u.flatMap((s: unknown, i) => {
      const r = Shape3C.validate(s, t.appendContext(c, String(i), Shape3C, s));
      return E.isLeft(r) ? r.left : [];
    });
    return errors.length > 0 ? t.failures(errors) : t.success(u as unknown as readonly [Shape3, Shape3]);
  },
  ([a, b]) => [Shape3C.encode(a), Shape3C.encode(b)],
);
indexed.add(ShapePairC);

const isKernels = (u: unknown): u is readonly [number, number, number] =>
  Array.isArray(u) && u.length === 3 && u.every((k) => num.is(k));

/** Three kernel sizes (the shape interpreter checks that they are odd and positive). */
const KernelsC = new t.Type<readonly [number, number, number], readonly [number, number, number], unknown>(
  'three kernel sizes [k0,k1,k2]',
  isKernels,
  (u, c) => (isKernels(u) ? t.success(u) : t.failure(u, c, `expected three kernel sizes [k0,k1,k2], found ${show(u)}`)),
  (k) => [k[0], k[1], k[2]],
);

/** A fixed string tag (the `kind` of a node the dispatcher has already chosen, or of a net). */
const tag = <K extends string>(kind: K) =>
  new t.Type<K, K, unknown>(
    quoted(kind),
    (u): u is K => u === kind,
    (u, c) => (u === kind ? t.success(kind) : t.failure(u, c, `expected kind ${quoted(kind)}, found ${show(u)}`)),
    t.identity,
  );

// ---------------------------------------------------------------------------------------------
// Combinators

/** A list of `item`s. */
const listOf = <A, O>(what: string, item: t.Type<A, O, unknown>) => {
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
const recordOf = <A, O>(what: string, value: t.Type<A, O, unknown>) =>
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

/**
 * An object with exactly the fields of `props`: a missing field, a field of the wrong type and an
 * extra field are each reported at the field's path. An extra field that looks like a misspelling
 * of a missing one is reported once, as a misspelling. Encoding writes the fields in `props` order.
 */
const strictObject = <P extends t.Props>(what: string, props: P) => {
  const keys = Object.keys(props);
  const fields = `${what} has fields ${keys.join(', ')}`;
  const codecOf = (k: string): t.Mixed => props[k] as t.Mixed;
  return new t.Type<TypeOfProps<P>, OutputOfProps<P>, unknown>(
    what,
    (u): u is TypeOfProps<P> =>
      isRecord(u) && Object.keys(u).every((k) => hasOwn(props, k)) && keys.every((k) => hasOwn(u, k) && codecOf(k).is(u[k])),
    (u, c) => {
      if (!isRecord(u)) return t.failure(u, c, `expected ${what} (an object: ${fields}), found ${show(u)}`);
      const missing = keys.filter((k) => !hasOwn(u, k));
      const extra = Object.keys(u).filter((k) => !hasOwn(props, k));
      const meant = new Map<string, string>();
      for (const x of extra) {
        const m = closest(x, missing.filter((k) => ![...meant.values()].includes(k)));
        if (m !== undefined) meant.set(x, m);
      }
      const misspelt = new Set(meant.values());
      const errors: t.ValidationError[] = [];
      for (const k of keys) {
        const codec = codecOf(k);
        if (!hasOwn(u, k)) {
          if (!misspelt.has(k)) errors.push({ value: undefined, context: t.appendContext(c, k, codec, undefined), message: `missing field ${quoted(k)} (${codec.name}); ${fields}` });
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
      return errors.length > 0 ? t.failures(errors) : t.success(u as TypeOfProps<P>);
    },
    (a) => {
      const o: Record<string, unknown> = {};
      for (const k of keys) o[k] = codecOf(k).encode((a as Record<string, unknown>)[k]);
      return o as OutputOfProps<P>;
    },
  );
};

// ---------------------------------------------------------------------------------------------
// The codecs

/** The spec of a coupling's network. */
export const NetSpecCodec = strictObject('a convNet', { kind: tag('convNet'), hidden: num, kernels: KernelsC });

const CondC = recordOf('named conditioning shapes {name: [C,H,W]}', Shape3C);

/** Deepest nesting of combinators accepted (a guard against stack overflow on hostile input). */
const MAX_DEPTH = 200;

/** Kinds in the order of the union in spec.ts (the order used in messages). */
export const kinds = [
  'affine',
  'actnorm',
  'inv1x1',
  'inv1x1LU',
  'affineCoupling',
  'additiveCoupling',
  'conditionalAffine',
  'splineCoupling',
  'squeeze',
  'unsqueeze',
  'permute',
  'logit',
  'identity',
  'split',
  'concat',
  'chain',
  'repeat',
  'invert',
  'parallel',
] as const satisfies readonly Kind[];

/** The codec of any spec: a recursive union that dispatches on `kind`. */
export const FlowSpecCodec: t.Type<FlowSpec, FlowSpec, unknown> = t.recursion<FlowSpec, FlowSpec, unknown>('FlowSpec', () => dispatch);

const node = <K extends Kind, P extends t.Props>(kind: K, props: P) =>
  strictObject(`${/^[aeiou]/i.test(kind) ? 'an' : 'a'} ${quoted(kind)} node`, { kind: tag(kind), ...props } as { kind: t.Type<K, K, unknown> } & P);
const primitive = <K extends Kind, P extends t.Props>(kind: K, props: P) =>
  node(kind, { shape: Shape3C, ...props } as { shape: typeof Shape3C } & P);
const conditioned = { cond: CondC, net: NetSpecCodec };
const Specs = listOf('a list of flow specs', FlowSpecCodec);

/** One exact codec per kind. */
export const nodeCodecs = {
  affine: primitive('affine', {}),
  actnorm: primitive('actnorm', {}),
  inv1x1: primitive('inv1x1', {}),
  inv1x1LU: primitive('inv1x1LU', {}),
  affineCoupling: primitive('affineCoupling', { ...conditioned, clamp: num }),
  additiveCoupling: primitive('additiveCoupling', conditioned),
  conditionalAffine: primitive('conditionalAffine', { ...conditioned, clamp: num }),
  splineCoupling: primitive('splineCoupling', { ...conditioned, bins: num, bound: num }),
  squeeze: primitive('squeeze', {}),
  unsqueeze: primitive('unsqueeze', {}),
  permute: primitive('permute', { perm: listOf('a list of channel indices', num) }),
  logit: primitive('logit', { alpha: num, levels: num }),
  identity: primitive('identity', {}),
  split: primitive('split', { at: num }),
  concat: node('concat', { shapes: ShapePairC }),
  chain: node('chain', { steps: Specs }),
  repeat: node('repeat', { n: num, body: FlowSpecCodec }),
  invert: node('invert', { body: FlowSpecCodec }),
  parallel: node('parallel', { branches: Specs }),
};

// Compile-time checks: the codecs decode exactly the spec types (mutually assignable, kind by kind).
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Check<T extends true> = T;
type NodeCodecs = typeof nodeCodecs;
export type CodecChecks = [
  Check<Mutual<keyof NodeCodecs, Kind>>,
  Check<Mutual<(typeof kinds)[number], Kind>>,
  Check<Mutual<{ [K in Kind]: Mutual<t.TypeOf<NodeCodecs[K]>, Extract<FlowSpec, { kind: K }>> }[Kind], true>>,
  Check<Mutual<{ [K in keyof NodeCodecs]: t.TypeOf<NodeCodecs[K]> }[keyof NodeCodecs], FlowSpec>>,
  Check<Mutual<t.TypeOf<typeof FlowSpecCodec>, FlowSpec>>,
  Check<Mutual<t.TypeOf<typeof NetSpecCodec>, NetSpec>>,
  Check<Mutual<t.TypeOf<typeof CondC>, CondShapes>>,
];

const isKind = (k: unknown): k is Kind => typeof k === 'string' && (kinds as readonly string[]).includes(k);
const codecFor = (k: Kind): t.Type<FlowSpec, FlowSpec, unknown> => nodeCodecs[k] as unknown as t.Type<FlowSpec, FlowSpec, unknown>;
const kindList = `expected one of ${kinds.join(', ')}`;

const dispatch = new t.Type<FlowSpec, FlowSpec, unknown>(
  'FlowSpec',
  (u): u is FlowSpec => isRecord(u) && isKind(u['kind']) && codecFor(u['kind']).is(u),
  (u, c) => {
    if (!isRecord(u)) return t.failure(u, c, `expected a flow spec (an object with a 'kind'), found ${show(u)}`);
    if (c.filter((e) => e.type === FlowSpecCodec).length > MAX_DEPTH) return t.failure(u, c, `specs nested more than ${MAX_DEPTH} deep are not accepted`);
    if (c.slice(0, -1).some((e) => e.actual === u)) return t.failure(u, c, 'a spec cannot contain itself (cyclic reference)');
    const kind = u['kind'];
    const at = t.appendContext(c, 'kind', t.string, kind);
    if (!hasOwn(u, 'kind')) return t.failure(undefined, at, `missing field 'kind'; ${kindList}`);
    if (!isKind(kind)) {
      const m = typeof kind === 'string' ? closest(kind, kinds) : undefined;
      const found = typeof kind === 'string' ? `unknown kind ${quoted(kind)}` : `kind must be a string, found ${show(kind)}`;
      return t.failure(kind, at, `${found}; ${kindList}${m !== undefined ? ` (did you mean ${quoted(m)}?)` : ''}`);
    }
    return codecFor(kind).validate(u, c);
  },
  (a) => codecFor(a.kind).encode(a),
);

// ---------------------------------------------------------------------------------------------
// The reporter

const pathOf = (context: t.Context): string => {
  let path = '$';
  for (let i = 1; i < context.length; i++) {
    const entry = context[i] as t.ContextEntry;
    const parent = context[i - 1] as t.ContextEntry;
    path += indexed.has(parent.type) || Array.isArray(parent.actual) ? `[${entry.key}]` : `.${entry.key}`;
  }
  return path;
};

/** io-ts errors as spec issues: one per error, at the path of the offending field, deduplicated. */
export const toIssues = (errors: t.Errors): SpecIssue[] => {
  const seen = new Set<string>();
  const issues: SpecIssue[] = [];
  for (const e of errors) {
    const last = e.context[e.context.length - 1];
    const issue = { path: pathOf(e.context), message: e.message ?? `expected ${last?.type.name ?? 'a value'}, found ${show(e.value)}` };
    const key = `${issue.path}\u0000${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
};

/** An io-ts reporter giving spec issues (empty when the validation succeeded). */
export const SpecReporter: Reporter<SpecIssue[]> = {
  report: (validation) => (E.isLeft(validation) ? toIssues(validation.left) : []),
};

// ---------------------------------------------------------------------------------------------
// The API

const deepFreeze = <T>(x: T): T => {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
};

/**
 * Decodes a spec from parsed JSON: checks every node's fields exactly, then the shapes. The result is
 * a fresh, frozen spec with its fields in the canonical order.
 */
export const decodeSpec = (json: unknown): E.Either<SpecIssue[], FlowSpec> => {
  const decoded = FlowSpecCodec.decode(json);
  if (E.isLeft(decoded)) return E.left(toIssues(decoded.left));
  const spec = deepFreeze(FlowSpecCodec.encode(decoded.right));
  const shapes = inferShapes(spec);
  return E.isLeft(shapes) ? E.left([...shapes.left]) : E.right(spec);
};

/** Parses JSON text and decodes it; bad JSON is an issue at `$` with the parser's message. */
export const parseSpec = (text: string): E.Either<SpecIssue[], FlowSpec> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left([{ path: '$', message: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  return decodeSpec(json);
};

/** Like `decodeSpec`, throwing a SpecError that lists the issues. */
export const decodeSpecOrThrow = (json: unknown): FlowSpec => {
  const result = decodeSpec(json);
  if (E.isLeft(result)) throw new SpecError(result.left);
  return result.right;
};

/** The spec as JSON: fields in canonical order (kind first), 2-space indentation, deterministic. */
export const encodeSpec = (spec: FlowSpec): string =>
  // Indented for reading, with arrays of numbers (shapes, permutations) kept on one line.
  JSON.stringify(FlowSpecCodec.encode(spec), null, 2).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, nums: string) =>
    `[${nums.split(/,\s*/).join(', ')}]`,
  );
