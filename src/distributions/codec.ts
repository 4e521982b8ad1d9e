/**
 * A distribution as JSON and back: `{ "format": "typed-flows/distribution@1", "kind": ..., ... }` with
 * a transformed distribution's flow written as the flow codec writes it (without its own format tag).
 * Decoding checks every field and the shapes, and reports each issue at its path.
 */
import * as E from 'fp-ts/lib/Either.js';
import { isRecord } from '../dsl/codec-parts.js';
import { decodeSpec, encodeSpecJson, withoutFormatTag } from '../dsl/codec.js';
import { SpecError, type SpecIssue } from '../dsl/errors.js';
import { deepFreeze } from '../dsl/freeze.js';
import type { DistributionDefinition } from './kinds/definition.js';
import { baseDefinitionOf, baseDefinitions, isBaseKind, type BaseSpec } from './kinds/index.js';
import { distributionSignature, unknownKindMessage, type DistributionSpec } from './spec.js';

/** The `format` tag of a distribution's JSON. */
export const DISTRIBUTION_FORMAT = 'typed-flows/distribution@1';


const toJson = (dist: DistributionSpec): Record<string, unknown> => {
  switch (dist.kind) {
    case 'transformed':
      return { kind: 'transformed', base: toJson(dist.base), flow: withoutFormatTag(encodeSpecJson(dist.flow)) };
    case 'standardized':
      return { kind: 'standardized', base: toJson(dist.base) };
    default:
      return { kind: dist.kind, ...baseDefinitionOf(dist).encode(dist) };
  }
};

/** The distribution as JSON data with its format tag first. */
export const encodeDistributionJson = (dist: DistributionSpec): Record<string, unknown> => ({ format: DISTRIBUTION_FORMAT, ...toJson(dist) });

/** The distribution as JSON text (2-space indentation, shapes on one line). */
export const encodeDistribution = (dist: DistributionSpec): string =>
  JSON.stringify(encodeDistributionJson(dist), null, 2).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, nums: string) => `[${nums.split(/,\s*/).join(', ')}]`);

const fromJson = (u: unknown, path: string): E.Either<SpecIssue[], DistributionSpec> => {
  if (!isRecord(u)) return E.left([{ path, message: `expected a distribution object, got ${JSON.stringify(u)}` }]);
  const extra = (allowed: readonly string[]): SpecIssue[] =>
    Object.keys(u)
      .filter((k) => !allowed.includes(k))
      .map((k) => ({ path: `${path}.${k}`, message: 'unexpected field' }));
  const kind = u['kind'];
  switch (kind) {
    case 'transformed': {
      const issues = extra(['kind', 'base', 'flow', ...(path === '$' ? ['format'] : [])]);
      const base = fromJson(u['base'], `${path}.base`);
      const flow = decodeSpec(u['flow']);
      if (E.isLeft(base)) issues.push(...base.left);
      if (E.isLeft(flow)) issues.push(...flow.left.map((i) => ({ ...i, path: i.path.replace(/^\$/, `${path}.flow`) })));
      if (issues.length > 0 || E.isLeft(base) || E.isLeft(flow)) return E.left(issues);
      return E.right({ kind: 'transformed', base: base.right, flow: flow.right });
    }
    case 'standardized': {
      const issues = extra(['kind', 'base', ...(path === '$' ? ['format'] : [])]);
      const base = fromJson(u['base'], `${path}.base`);
      if (E.isLeft(base)) issues.push(...base.left);
      if (issues.length > 0 || E.isLeft(base)) return E.left(issues);
      return E.right({ kind: 'standardized', base: base.right });
    }
    default: {
      if (!isBaseKind(kind)) return E.left([{ path: `${path}.kind`, message: unknownKindMessage(kind) }]);
      const definition = baseDefinitions[kind] as DistributionDefinition<BaseSpec>;
      const issues = extra(['kind', ...definition.fields, ...(path === '$' ? ['format'] : [])]);
      const decoded = definition.decode(u, path);
      if (E.isLeft(decoded)) issues.push(...decoded.left);
      return issues.length > 0 || E.isLeft(decoded) ? E.left(issues) : E.right(decoded.right);
    }
  }
};

/** Decodes parsed JSON into a checked, frozen distribution spec, or every issue with its path. */
export const decodeDistribution = (json: unknown): E.Either<SpecIssue[], DistributionSpec> => {
  if (isRecord(json) && json['format'] !== undefined && json['format'] !== DISTRIBUTION_FORMAT) {
    return E.left([{ path: '$.format', message: `unknown format ${JSON.stringify(json['format'])}; this build reads ${DISTRIBUTION_FORMAT}` }]);
  }
  const decoded = fromJson(json, '$');
  if (E.isLeft(decoded)) return decoded;
  try {
    distributionSignature(decoded.right);
  } catch (e) {
    if (e instanceof SpecError) return E.left([...e.issues]);
    throw e;
  }
  return E.right(deepFreeze(decoded.right));
};

/** Parses JSON text and decodes it (bad JSON is an issue at `$`). */
export const parseDistribution = (text: string): E.Either<SpecIssue[], DistributionSpec> => {
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    return E.left([{ path: '$', message: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  return decodeDistribution(json);
};
