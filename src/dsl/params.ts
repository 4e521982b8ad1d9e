/**
 * Parameters live apart from the spec, in a tree that mirrors it: a primitive's parameters are a record
 * of tensors (possibly nested, e.g. a coupling's network); chain, repeat and parallel hold an array with
 * one entry per child; invert holds its body's tree.
 */
import * as tf from '@tensorflow/tfjs';

/** A flow's parameters: tensors nested in arrays (a chain's steps, a repeat's copies) and records (named tensors), mirroring the spec. */
export type ParamTree = tf.Tensor | readonly ParamTree[] | { readonly [name: string]: ParamTree };
/** One node's parameters by name. */
export type ParamRecord = { readonly [name: string]: ParamTree };

/** A tree of tensor shapes, mirroring a ParamTree; used to check loaded weights and count parameters. */
export type ShapeTree = readonly number[] | readonly ShapeTree[] | { readonly [name: string]: ShapeTree };
/** One node's parameter shapes by name. */
export type ShapeRecord = { readonly [name: string]: ShapeTree };

/** True when the value is a tfjs tensor. */
export const isTensor = (t: unknown): t is tf.Tensor => t instanceof tf.Tensor;

const isShapeLeaf = (s: ShapeTree): s is readonly number[] => Array.isArray(s) && s.every((d) => typeof d === 'number');

/** The dotted path of child `key` of the parameters at `path` ('' is the root): `0.net.dense0`. */
export const joinParamPath = (path: string, key: string | number): string => (path === '' ? String(key) : `${path}.${key}`);

/** Leaves of a tree with their dotted paths ("3.net.conv0.kernel"), in a stable order. */
export const flattenParams = (tree: ParamTree, prefix = ''): Array<readonly [string, tf.Tensor]> => {
  // One accumulator rather than flatMap's array per node: training flattens ~200-leaf trees several
  // times per step.
  const out: Array<readonly [string, tf.Tensor]> = [];
  const walk = (node: ParamTree, path: string): void => {
    if (isTensor(node)) {
      out.push([path, node]);
      return;
    }
    if (Array.isArray(node)) {
      const children = node as readonly ParamTree[];
      for (let i = 0; i < children.length; i++) walk(children[i] as ParamTree, joinParamPath(path, i));
      return;
    }
    for (const k in node as ParamRecord) walk((node as ParamRecord)[k] as ParamTree, joinParamPath(path, k));
  };
  walk(tree, prefix);
  return out;
};

/** Every leaf of a shape tree with its dotted path (prefixed by `prefix`), in tree order. */
export const flattenShapes = (tree: ShapeTree, prefix = ''): Array<readonly [string, readonly number[]]> => {
  if (isShapeLeaf(tree) && (tree.length === 0 || typeof tree[0] === 'number')) {
    // An empty array is an empty list of children, not a scalar shape: no parameters here.
    return tree.length === 0 ? [] : [[prefix, tree]];
  }
  if (Array.isArray(tree)) return (tree as readonly ShapeTree[]).flatMap((t, i) => flattenShapes(t, joinParamPath(prefix, i)));
  return Object.entries(tree as ShapeRecord).flatMap(([k, t]) => flattenShapes(t, joinParamPath(prefix, k)));
};

/** Rebuilds a tree of the same structure with each tensor replaced. */
export const mapParams = (tree: ParamTree, f: (t: tf.Tensor, path: string) => tf.Tensor, prefix = ''): ParamTree => {
  if (isTensor(tree)) return f(tree, prefix);
  if (Array.isArray(tree)) {
    const children = tree as readonly ParamTree[];
    const out = new Array<ParamTree>(children.length);
    for (let i = 0; i < children.length; i++) out[i] = mapParams(children[i] as ParamTree, f, prefix === '' ? String(i) : `${prefix}.${i}`);
    return out;
  }
  const out: { [name: string]: ParamTree } = {};
  for (const k in tree as ParamRecord) out[k] = mapParams((tree as ParamRecord)[k] as ParamTree, f, prefix === '' ? k : `${prefix}.${k}`);
  return out;
};

/** Thrown when a params tree does not mirror its spec. */
export class ParamMismatchError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`parameters do not match the spec:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ParamMismatchError';
  }
}

const formatDims = (s: readonly number[]): string => `[${s.join(',')}]`;

/** Every missing, extra or mis-shaped tensor of `params`, against the shapes expected by path ("of this <what>" for extras). */
export const paramProblems = (expected: ReadonlyMap<string, readonly number[]>, params: ParamTree, what = 'spec'): string[] => {
  const actual = new Map(flattenParams(params).map(([path, t]) => [path, t.shape]));
  const problems: string[] = [];
  for (const [path, shape] of expected) {
    const got = actual.get(path);
    if (got === undefined) problems.push(`${path}: missing (expected ${formatDims(shape)})`);
    else if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) problems.push(`${path}: shape ${formatDims(got)}, expected ${formatDims(shape)}`);
  }
  for (const path of actual.keys()) if (!expected.has(path)) problems.push(`${path}: not a parameter of this ${what}`);
  return problems;
};

/**
 * The inverse of `flattenParams`: rebuilds the nested tree laid out by `shapes` (e.g. `paramShapes(spec)`:
 * arrays where it has arrays, records elsewhere) from dotted paths. The tree holds the given tensors
 * themselves (no copies). Throws a ParamMismatchError listing every missing, extra or mis-shaped tensor.
 */
export const paramsFromFlat = (shapes: ShapeTree, flat: ReadonlyMap<string, tf.Tensor> | Iterable<readonly [string, tf.Tensor]>): ParamTree => {
  const tensors = new Map<string, tf.Tensor>(flat);
  const used = new Set<string>();
  const problems: string[] = [];
  const build = (s: ShapeTree, path: string): ParamTree => {
    if (isShapeLeaf(s) && s.length > 0) {
      const t = tensors.get(path);
      if (t === undefined) problems.push(`${path}: missing (expected ${formatDims(s)})`);
      else {
        used.add(path);
        if (t.shape.length !== s.length || t.shape.some((d, i) => d !== s[i])) problems.push(`${path}: shape ${formatDims(t.shape)}, expected ${formatDims(s)}`);
      }
      return t as tf.Tensor;
    }
    if (Array.isArray(s)) return (s as readonly ShapeTree[]).map((c, i) => build(c, joinParamPath(path, i)));
    return Object.fromEntries(Object.entries(s as ShapeRecord).map(([k, c]) => [k, build(c, joinParamPath(path, k))]));
  };
  const tree = build(shapes, '');
  for (const path of tensors.keys()) if (!used.has(path)) problems.push(`${path}: not a parameter of this model`);
  if (problems.length > 0) throw new ParamMismatchError(problems);
  return tree;
};

/** The total number of scalar parameters in a shape tree. */
export const countParams = (shapes: ShapeTree): number =>
  flattenShapes(shapes).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);

/** Disposes every tensor of a parameter tree. */
export const disposeParams = (tree: ParamTree): void => {
  for (const [, t] of flattenParams(tree)) t.dispose();
};

/** A child of a params node, with an error that names the path when the tree does not mirror the spec. */
export const child = (tree: ParamTree, index: number, path: string): ParamTree => {
  if (!Array.isArray(tree)) throw new TypeError(`params at ${path}: expected an array of ${index + 1}+ children`);
  const c = (tree as readonly ParamTree[])[index];
  if (c === undefined) throw new TypeError(`params at ${path}: missing child ${index}`);
  return c;
};

/** The tensor `name` of a node's parameters; throws an error naming `path` when it is missing. */
export const tensorAt = (tree: ParamTree, name: string, path: string): tf.Tensor => {
  const t = !isTensor(tree) && !Array.isArray(tree) ? (tree as ParamRecord)[name] : undefined;
  if (t === undefined || !isTensor(t)) throw new TypeError(`params at ${path}: missing tensor '${name}'`);
  return t;
};
