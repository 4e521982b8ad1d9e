/**
 * The parameter-shape interpreter: the ShapeTree a spec's params must have, which parameters are
 * trained, and a check that a params tree (e.g. loaded from disk) mirrors the spec.
 */
import { fold, type FoldTable } from '../dsl/fold.js';
import { flattenShapes, ParamMismatchError, paramProblems, type ParamTree, type ShapeTree } from '../dsl/params.js';
import { definitionOf } from '../dsl/registry.js';
import type { FlowSpec } from '../dsl/spec.js';

const shapeTable: FoldTable<never, ShapeTree> = {
  primitive: (spec) => ({ outs: undefined, result: definitionOf(spec).params.shapes(spec) }),
  sequence: (children) => children,
  parallel: (branches) => branches,
  invert: (body) => body,
};

/** The shapes of a flow's parameters, as the tree `init` returns (a chain's steps, a repeat's copies, each node's named tensors). */
export const paramShapes = (spec: FlowSpec): ShapeTree => fold(spec, shapeTable).result;

const elementsOf = (shapes: ShapeTree): number => flattenShapes(shapes).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);

// A repeat's body folded once and multiplied: a repeat of 10^8 costs what its body costs.
const elementTable: FoldTable<never, number> = {
  repeatOnce: true,
  primitive: (spec) => ({ outs: undefined, result: elementsOf(definitionOf(spec).params.shapes(spec)) }),
  sequence: (children, _node, spec) => children.reduce((a, b) => a + b, 0) * (spec.kind === 'repeat' ? spec.n : 1),
  parallel: (branches) => branches.reduce((a, b) => a + b, 0),
  invert: (body) => body,
};

/** Parameter elements of a spec, frozen ones included (what its parameters occupy), from each definition's `params.shapes`. */
export const paramElements = (spec: FlowSpec): number => fold(spec, elementTable).result;

/** One parameter of a flow: its dotted path, shape, and whether it is trained and mixes its input. */
export interface ParamInfo {
  readonly path: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
  /** Whether the parameter multiplies its input (a mixing matrix or conv kernel), as its definition says. */
  readonly mixing: boolean;
}

const infoTable: FoldTable<never, ParamInfo[]> = {
  primitive: (spec, { paramPath }) => {
    const { shapes, frozen, mixing } = definitionOf(spec).params;
    const local = (path: string): string => path.slice(paramPath === '' ? 0 : paramPath.length + 1);
    return {
      outs: undefined,
      result: flattenShapes(shapes(spec), paramPath).map(([path, shape]) => ({
        path,
        shape,
        trainable: !frozen.includes(local(path).split('.')[0] ?? ''),
        mixing: mixing.includes(local(path).split('.').pop() ?? ''),
      })),
    };
  },
  sequence: (children) => children.flat(),
  parallel: (branches) => branches.flat(),
  invert: (body) => body,
};

/** Every parameter with its dotted path, shape and whether training updates it. */
export const paramInfo = (spec: FlowSpec, prefix = ''): ParamInfo[] => fold(spec, infoTable, { paramPath: prefix }).result;

export { ParamMismatchError } from '../dsl/params.js';

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
  const problems = paramProblems(expectedShapesOf(spec), params);
  if (problems.length > 0) throw new ParamMismatchError(problems);
  if (typeof params === 'object') checked.set(params, spec);
};
