/**
 * A distribution as JSON and back: `{ "format": "typed-flows/distribution@1", "kind": ..., ... }` with
 * a transformed distribution's flow written as the flow codec writes it (without its own format tag).
 * Decoding checks every field and the shapes, and reports each issue at its path.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeSpec, encodeSpecJson, withoutFormatTag } from '../dsl/codec.js';
import { SpecError, type SpecIssue } from '../dsl/errors.js';
import { deepFreeze } from '../dsl/freeze.js';
import { isShape } from '../dsl/shape.js';
import { distributionSignature, type DistributionSpec } from './spec.js';

/** The `format` tag of a distribution's JSON. */
export const DISTRIBUTION_FORMAT = 'typed-flows/distribution@1';

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

const toJson = (dist: DistributionSpec): Record<string, unknown> => {
  switch (dist.kind) {
    case 'standardNormal':
    case 'diagonalNormal':
      return { kind: dist.kind, shapes: dist.shapes.map((s) => [...s]) };
    case 'transformed':
      return { kind: 'transformed', base: toJson(dist.base), flow: withoutFormatTag(encodeSpecJson(dist.flow)) };
    case 'standardized':
      return { kind: 'standardized', base: toJson(dist.base) };
    case 'gaussianMixture':
      return { kind: 'gaussianMixture', shape: [...dist.shape], components: dist.components };
    case 'studentT':
      return { kind: 'studentT', shape: [...dist.shape] };
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
  switch (u['kind']) {
    case 'standardNormal':
    case 'diagonalNormal': {
      const issues = extra(['kind', 'shapes', ...(path === '$' ? ['format'] : [])]);
      const shapes = u['shapes'];
      if (!Array.isArray(shapes) || shapes.length === 0) issues.push({ path: `${path}.shapes`, message: 'expected a non-empty list of event shapes' });
      else shapes.forEach((s, i) => isShape(s) || issues.push({ path: `${path}.shapes[${i}]`, message: `expected an event shape of positive integers, got ${JSON.stringify(s)}` }));
      return issues.length > 0 ? E.left(issues) : E.right({ kind: u['kind'], shapes: (shapes as number[][]).map((s) => [...s]) });
    }
    case 'transformed': {
      const issues = extra(['kind', 'base', 'flow', ...(path === '$' ? ['format'] : [])]);
      const base = fromJson(u['base'], `${path}.base`);
      const flow = decodeSpec(u['flow']);
      if (E.isLeft(base)) issues.push(...base.left);
      if (E.isLeft(flow)) issues.push(...flow.left.map((i) => ({ ...i, path: i.path.replace(/^\$/, `${path}.flow`) })));
      if (issues.length > 0 || E.isLeft(base) || E.isLeft(flow)) return E.left(issues);
      return E.right({ kind: 'transformed', base: base.right, flow: flow.right });
    }
    case 'gaussianMixture': {
      const issues = extra(['kind', 'shape', 'components', ...(path === '$' ? ['format'] : [])]);
      const shape = u['shape'];
      const components = u['components'];
      if (!(isShape(shape) && shape.length === 1)) issues.push({ path: `${path}.shape`, message: `expected a vector event shape [D], got ${JSON.stringify(shape)}` });
      if (!(typeof components === 'number' && Number.isInteger(components) && components >= 1)) issues.push({ path: `${path}.components`, message: `expected a positive integer, got ${JSON.stringify(components)}` });
      return issues.length > 0 ? E.left(issues) : E.right({ kind: 'gaussianMixture', shape: [(shape as number[])[0] as number], components: components as number });
    }
    case 'studentT': {
      const issues = extra(['kind', 'shape', ...(path === '$' ? ['format'] : [])]);
      const shape = u['shape'];
      if (!(isShape(shape) && shape.length === 1)) issues.push({ path: `${path}.shape`, message: `expected a vector event shape [D], got ${JSON.stringify(shape)}` });
      return issues.length > 0 ? E.left(issues) : E.right({ kind: 'studentT', shape: [(shape as number[])[0] as number] });
    }
    case 'standardized': {
      const issues = extra(['kind', 'base', ...(path === '$' ? ['format'] : [])]);
      const base = fromJson(u['base'], `${path}.base`);
      if (E.isLeft(base)) issues.push(...base.left);
      if (issues.length > 0 || E.isLeft(base)) return E.left(issues);
      return E.right({ kind: 'standardized', base: base.right });
    }
    default:
      return E.left([{ path: `${path}.kind`, message: `unknown distribution kind ${JSON.stringify(u['kind'])}; expected standardNormal, diagonalNormal, gaussianMixture, studentT, transformed or standardized` }]);
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
