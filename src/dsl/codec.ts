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
import type { NetSpec } from '../layers/spec.js';
import { closest, CondCodec, hasOwn, indexed, isRecord, listOf, NetSpecCodec, nodeCodec, num, quoted, show } from './codec-parts.js';
import { SpecError, type SpecIssue } from './errors.js';
import { deepFreeze } from './freeze.js';
import { definitions, type PrimitiveSpec } from './registry.js';
import type { CondShapes } from './shape.js';
import { inferShapes } from './signature.js';
import type { CombinatorKind, FlowSpec, Kind } from './spec.js';

export { NetSpecCodec } from './codec-parts.js';

/** The format tag written at the root of an encoded spec; older files without it are read as this version. */
export const SPEC_FORMAT = 'typed-flows/spec@1';

/** Deepest nesting of combinators accepted (a guard against stack overflow on hostile input). */
const MAX_DEPTH = 200;

/** The codec of any spec: a recursive union that dispatches on `kind`. */
export const FlowSpecCodec: t.Type<FlowSpec, FlowSpec, unknown> = t.recursion<FlowSpec, FlowSpec, unknown>('FlowSpec', () => dispatch);

const Specs = listOf('a list of flow specs', FlowSpecCodec);

/** The combinators' codecs; each primitive's codec is part of its definition. */
const combinatorCodecs = {
  chain: nodeCodec('chain', { steps: Specs }),
  repeat: nodeCodec('repeat', { n: num, body: FlowSpecCodec }),
  invert: nodeCodec('invert', { body: FlowSpecCodec }),
  parallel: nodeCodec('parallel', { branches: Specs }),
};

/** One exact codec per kind: the registered primitives' (in registry order), then the combinators'. */
export const nodeCodecs: { readonly [K in Kind]: t.Type<Extract<FlowSpec, { kind: K }>, unknown, unknown> } = {
  ...(Object.fromEntries([...definitions()].map(([k, d]) => [k, d.codec])) as { readonly [K in PrimitiveSpec['kind']]: t.Type<Extract<PrimitiveSpec, { kind: K }>, unknown, unknown> }),
  ...combinatorCodecs,
};

/** Every kind, in the order used in messages. */
export const kinds: readonly Kind[] = Object.keys(nodeCodecs) as Kind[];

// Compile-time checks: the combinator codecs decode exactly the combinator spec types.
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Check<T extends true> = T;
/** Compile-time checks that the codecs and the spec types agree (a type error here is a codec that drifted). */
export type CodecChecks = [
  Check<Mutual<keyof typeof combinatorCodecs, CombinatorKind>>,
  Check<Mutual<{ [K in CombinatorKind]: Mutual<t.TypeOf<(typeof combinatorCodecs)[K]>, Extract<FlowSpec, { kind: K }>> }[CombinatorKind], true>>,
  Check<Mutual<t.TypeOf<typeof NetSpecCodec>, NetSpec>>,
  Check<Mutual<t.TypeOf<typeof CondCodec>, CondShapes>>,
];

const isKind = (k: unknown): k is Kind => typeof k === 'string' && hasOwn(nodeCodecs, k);
const codecFor = (k: Kind): t.Type<FlowSpec, unknown, unknown> => nodeCodecs[k] as unknown as t.Type<FlowSpec, unknown, unknown>;
const kindList = (): string => `expected one of ${kinds.join(', ')}`;

const dispatch = new t.Type<FlowSpec, FlowSpec, unknown>(
  'FlowSpec',
  (u): u is FlowSpec => isRecord(u) && isKind(u['kind']) && codecFor(u['kind']).is(u),
  (u, c) => {
    if (!isRecord(u)) return t.failure(u, c, `expected a flow spec (an object with a 'kind'), found ${show(u)}`);
    if (c.filter((e) => e.type === FlowSpecCodec).length > MAX_DEPTH) return t.failure(u, c, `specs nested more than ${MAX_DEPTH} deep are not accepted`);
    if (c.slice(0, -1).some((e) => e.actual === u)) return t.failure(u, c, 'a spec cannot contain itself (cyclic reference)');
    const kind = u['kind'];
    const at = t.appendContext(c, 'kind', t.string, kind);
    if (!hasOwn(u, 'kind')) return t.failure(undefined, at, `missing field 'kind'; ${kindList()}`);
    if (!isKind(kind)) {
      const m = typeof kind === 'string' ? closest(kind, kinds) : undefined;
      const found = typeof kind === 'string' ? `unknown kind ${quoted(kind)}` : `kind must be a string, found ${show(kind)}`;
      return t.failure(kind, at, `${found}; ${kindList()}${m !== undefined ? ` (did you mean ${quoted(m)}?)` : ''}`);
    }
    return codecFor(kind).validate(u, c);
  },
  (a) => codecFor(a.kind).encode(a) as FlowSpec,
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

/**
 * The root's format tag taken off: absent (an older file) or this build's version is accepted, anything
 * else is an issue at `$.format` saying which versions this build reads.
 */
const withoutFormat = (json: unknown): E.Either<SpecIssue[], unknown> => {
  if (!isRecord(json) || !hasOwn(json, 'format')) return E.right(json);
  const { format, ...rest } = json;
  if (format === SPEC_FORMAT) return E.right(rest);
  return E.left([{
    path: '$.format',
    message: `unknown spec format ${show(format)}: this build of typed-flows reads ${quoted(SPEC_FORMAT)} (or no format field)${typeof format === 'string' && format.startsWith('typed-flows/spec@') ? '; the file may come from a newer version' : ''}`,
  }]);
};

/**
 * Decodes a spec from parsed JSON: checks every node's fields exactly, then the shapes. The result is
 * a fresh, frozen spec with its fields in the canonical order.
 */
export const decodeSpec = (json: unknown): E.Either<SpecIssue[], FlowSpec> => {
  const unversioned = withoutFormat(json);
  if (E.isLeft(unversioned)) return unversioned;
  const decoded = FlowSpecCodec.decode(unversioned.right);
  if (E.isLeft(decoded)) return E.left(toIssues(decoded.left));
  const spec = deepFreeze(FlowSpecCodec.encode(decoded.right));
  const shapes = inferShapes(spec);
  return E.isLeft(shapes) ? E.left([...shapes.left]) : E.right(spec);
};

/** Parses JSON text and decodes it; bad JSON is an issue at `$` with the parser's message. */
export const parseSpec = (text: string): E.Either<SpecIssue[], FlowSpec> => {
  let json: unknown;
  try {
    // A UTF-8 byte-order mark (some editors write one) is not part of the JSON.
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
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

/** Encoded spec JSON without this build's format tag (for comparing stored specs field by field); other tags stay. */
export const withoutFormatTag = (json: unknown): unknown => {
  if (!isRecord(json) || json['format'] !== SPEC_FORMAT) return json;
  const { format: _, ...rest } = json;
  return rest;
};

/** The spec as JSON data with its format tag first: what `encodeSpec` writes and checkpoints store. */
export const encodeSpecJson = (spec: FlowSpec): Record<string, unknown> => ({ format: SPEC_FORMAT, ...(FlowSpecCodec.encode(spec) as object) });

/** The spec as JSON: the format tag, then fields in canonical order (kind first), 2-space indentation, deterministic. */
export const encodeSpec = (spec: FlowSpec): string =>
  // Indented for reading, with arrays of numbers (shapes, permutations) kept on one line.
  JSON.stringify(encodeSpecJson(spec), null, 2).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, nums: string) =>
    `[${nums.split(/,\s*/).join(', ')}]`,
  );
