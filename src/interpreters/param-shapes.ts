/**
 * The parameter-shape interpreter: the ShapeTree a spec's params must have, which parameters are
 * trained, and a check that a params tree (e.g. loaded from disk) mirrors the spec.
 */
import type { FlowSpec } from '../dsl/spec.js';
import { formatShape, sameShape } from '../dsl/shape.js';
import { kernelOf } from './kernels/index.js';
import { flattenParams, flattenShapes, type ParamTree, type ShapeTree } from './params.js';

export const paramShapes = (spec: FlowSpec): ShapeTree => {
  switch (spec.kind) {
    case 'chain':
      return spec.steps.map(paramShapes);
    case 'repeat':
      return Array.from({ length: spec.n }, () => paramShapes(spec.body));
    case 'invert':
      return paramShapes(spec.body);
    case 'parallel':
      return spec.branches.map(paramShapes);
    case 'split':
    case 'concat':
      return {};
    default:
      return kernelOf(spec).paramShapes(spec);
  }
};

export interface ParamInfo {
  readonly path: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
}

/** Every parameter with its dotted path, shape and whether training updates it. */
export const paramInfo = (spec: FlowSpec, prefix = ''): ParamInfo[] => {
  const join = (k: string | number): string => (prefix === '' ? String(k) : `${prefix}.${k}`);
  switch (spec.kind) {
    case 'chain':
      return spec.steps.flatMap((s, i) => paramInfo(s, join(i)));
    case 'repeat':
      return Array.from({ length: spec.n }, (_, i) => paramInfo(spec.body, join(i))).flat();
    case 'invert':
      return paramInfo(spec.body, prefix);
    case 'parallel':
      return spec.branches.flatMap((s, i) => paramInfo(s, join(i)));
    case 'split':
    case 'concat':
      return [];
    default: {
      const kernel = kernelOf(spec);
      const frozen = new Set(kernel.frozen ?? []);
      return flattenShapes(kernel.paramShapes(spec), prefix).map(([path, shape]) => ({
        path,
        shape,
        trainable: !frozen.has(path.slice(prefix === '' ? 0 : prefix.length + 1).split('.')[0] ?? ''),
      }));
    }
  }
};

/** Thrown when a params tree does not mirror its spec. */
export class ParamMismatchError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`parameters do not match the spec:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ParamMismatchError';
  }
}

const checked = new WeakMap<object, FlowSpec>();

/** Specs are immutable values, so each one's expected shapes are worked out once. */
const expectedShapes = new WeakMap<FlowSpec, ReadonlyMap<string, readonly number[]>>();

const expectedShapesOf = (spec: FlowSpec): ReadonlyMap<string, readonly number[]> => {
  let expected = expectedShapes.get(spec);
  if (expected === undefined) {
    expected = new Map(paramInfo(spec).map((p) => [p.path, p.shape]));
    expectedShapes.set(spec, expected);
  }
  return expected;
};

/** Throws a ParamMismatchError listing every missing, extra or mis-shaped tensor by path. */
export const checkParams = (spec: FlowSpec, params: ParamTree): void => {
  if (typeof params === 'object' && checked.get(params) === spec) return;
  // Training rebuilds the tree for every loss evaluation, so this runs once per forward pass.
  const expected = expectedShapesOf(spec);
  const actual = new Map(flattenParams(params).map(([path, t]) => [path, t.shape]));
  const problems: string[] = [];
  for (const [path, shape] of expected) {
    const got = actual.get(path);
    if (got === undefined) problems.push(`${path}: missing (expected ${formatShape(shape)})`);
    else if (!sameShape(got, shape)) problems.push(`${path}: shape ${formatShape(got)}, expected ${formatShape(shape)}`);
  }
  for (const path of actual.keys()) if (!expected.has(path)) problems.push(`${path}: not a parameter of this spec`);
  if (problems.length > 0) throw new ParamMismatchError(problems);
  if (typeof params === 'object') checked.set(params, spec);
};
