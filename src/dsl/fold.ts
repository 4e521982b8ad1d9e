/**
 * The one walk over a spec's combinators. Every interpreter is a `FoldTable`: what it does at a
 * primitive (usually through the primitive's definition) and how it combines the results of a chain's
 * steps, a parallel's branches and an inverted body. The fold handles the combinators themselves:
 *
 * - chain and repeat run their children in order (reversed in the inverse direction), each child's
 *   outputs being the next one's inputs; a repeat's copies each have their own parameters;
 * - invert runs its body in the other direction, with the same parameters;
 * - parallel deals its inputs out to the branches by their arity and collects their outputs in order.
 *
 * Values (`V`) flow along the tensors: tensors for forward/inverse, data batches for init, domains
 * for verify. A structural fold (no `ins`: shapes, parameter shapes, summaries) visits children in spec
 * order and moves no values. Results (`R`) are combined bottom-up and always handed over in spec order.
 */
import { joinParamPath, type ParamTree } from './params.js';
import { definitionOf, type PrimitiveSpec } from './registry.js';
import type { ChainSpec, FlowSpec, InvertSpec, ParallelSpec, RepeatSpec } from './spec.js';

/** The direction of a pass: `forward` (data -> noise) or `inverse` (noise -> data). */
export type Direction = 'forward' | 'inverse';

/** The other direction. */
export const flip = (d: Direction): Direction => (d === 'forward' ? 'inverse' : 'forward');

/** Where the fold is: handed to every table entry. */
export interface Node<V> {
  /** Path of the node in the spec, as in error messages: `$.steps[2].body`. */
  readonly path: string;
  /** Dotted path of the node's parameters ('' at the root; a repeat's copies are its children 0..n-1). */
  readonly paramPath: string;
  /** The direction the node runs in (flipped inside invert). */
  readonly dir: Direction;
  /** The node's parameter subtree, when the fold was given parameters. */
  readonly params: ParamTree | undefined;
  /** The values entering the node in its direction, one per tensor (undefined in a structural fold). */
  readonly ins: readonly V[] | undefined;
}

/** What a table entry returns at a primitive: its output values and its result. */
export interface Step<V, R> {
  /** The values leaving the node in its direction (undefined in a structural fold). */
  readonly outs: readonly V[] | undefined;
  /** The interpreter's result for this node. */
  readonly result: R;
}

/** An interpreter as the fold's table: its entry at primitives and how it combines the results of each combinator. */
export interface FoldTable<V, R> {
  /** A primitive node: its outputs (in the fold's direction) and result. */
  readonly primitive: (spec: PrimitiveSpec, node: Node<V>) => Step<V, R>;
  /** A chain's steps or a repeat's copies, in spec order. */
  readonly sequence: (children: readonly R[], node: Node<V>, spec: ChainSpec | RepeatSpec) => R;
  /** A parallel's branches' results, in spec order. */
  readonly parallel: (branches: readonly R[], node: Node<V>, spec: ParallelSpec) => R;
  /** An inverted body's result (the body was folded in the other direction). */
  readonly invert: (body: R, node: Node<V>, spec: InvertSpec) => R;
  /**
   * Fold a repeat's body once (its result the only child, at parameter path `<repeat>.i`) rather than
   * once per copy: for interpreters that depend on neither values nor parameters, so that a repeat of
   * 10^8 costs what its body costs.
   */
  readonly repeatOnce?: boolean;
}

export interface FoldStart<V> {
  readonly dir?: Direction;
  readonly ins?: readonly V[];
  readonly params?: ParamTree;
  readonly path?: string;
  readonly paramPath?: string;
}

/** The params of child `index`, with an error naming the path when the tree does not mirror the spec. */
const childParams = (params: ParamTree | undefined, index: number, paramPath: string): ParamTree | undefined => {
  if (params === undefined) return undefined;
  if (!Array.isArray(params)) throw new TypeError(`params at '${paramPath}': expected an array of ${index + 1}+ children`);
  const c = (params as readonly ParamTree[])[index];
  if (c === undefined) throw new TypeError(`params at '${paramPath}': missing child ${index}`);
  return c;
};

const inputCounts = new WeakMap<FlowSpec, number>();
const outputCounts = new WeakMap<FlowSpec, number>();

/** How many tensors a (valid) flow takes: a parallel's inputs are dealt out by these counts. Cached per node. */
const inputCount = (spec: FlowSpec): number => count(spec, inputCounts, 'ins');
/** How many tensors a (valid) flow gives. */
const outputCount = (spec: FlowSpec): number => count(spec, outputCounts, 'outs');

const count = (spec: FlowSpec, cache: WeakMap<FlowSpec, number>, side: 'ins' | 'outs'): number => {
  const hit = cache.get(spec);
  if (hit !== undefined) return hit;
  const other = side === 'ins' ? 'outs' : 'ins';
  const n = ((): number => {
    switch (spec.kind) {
      case 'chain': {
        const end = side === 'ins' ? spec.steps[0] : spec.steps[spec.steps.length - 1];
        return end === undefined ? 0 : count(end, cache, side);
      }
      case 'repeat':
        return count(spec.body, cache, side);
      case 'invert':
        return count(spec.body, side === 'ins' ? outputCounts : inputCounts, other);
      case 'parallel':
        return spec.branches.reduce((total, b) => total + count(b, cache, side), 0);
      default: {
        const sig = definitionOf(spec).signature(spec, '$');
        if (sig._tag === 'Left') throw new TypeError(`invalid ${spec.kind} node: ${sig.left.map((i) => i.message).join('; ')}`);
        return sig.right[side].length;
      }
    }
  })();
  cache.set(spec, n);
  return n;
};

/** Folds `spec` with `table`, starting in direction `start.dir` (default forward) with values `start.ins`. */
export const fold = <V, R>(spec: FlowSpec, table: FoldTable<V, R>, start: FoldStart<V> = {}): Step<V, R> =>
  walk(spec, table, { path: start.path ?? '$', paramPath: start.paramPath ?? '', dir: start.dir ?? 'forward', params: start.params, ins: start.ins });

const walk = <V, R>(spec: FlowSpec, table: FoldTable<V, R>, node: Node<V>): Step<V, R> => {
  switch (spec.kind) {
    case 'chain':
      return sequence(spec, spec.steps, (i) => `${node.path}.steps[${i}]`, table, node);
    case 'repeat': {
      if (table.repeatOnce === true) {
        const body = walk(spec.body, table, { ...node, path: `${node.path}.body`, paramPath: joinParamPath(node.paramPath, 'i'), params: childParams(node.params, 0, node.paramPath) });
        return { outs: body.outs, result: table.sequence([body.result], node, spec) };
      }
      const copies = Array.from({ length: spec.n }, () => spec.body);
      return sequence(spec, copies, () => `${node.path}.body`, table, node);
    }
    case 'invert': {
      const body = walk(spec.body, table, { ...node, path: `${node.path}.body`, dir: node.dir === 'forward' ? 'inverse' : 'forward' });
      return { outs: body.outs, result: table.invert(body.result, node, spec) };
    }
    case 'parallel': {
      const results: R[] = [];
      const outs: V[] = [];
      let offset = 0;
      spec.branches.forEach((branch, i) => {
        let ins: readonly V[] | undefined;
        if (node.ins !== undefined) {
          const arity = node.dir === 'forward' ? inputCount(branch) : outputCount(branch);
          ins = node.ins.slice(offset, offset + arity);
          offset += arity;
        }
        const step = walk(branch, table, {
          path: `${node.path}.branches[${i}]`,
          paramPath: joinParamPath(node.paramPath, i),
          dir: node.dir,
          params: childParams(node.params, i, node.paramPath),
          ins,
        });
        results.push(step.result);
        if (step.outs !== undefined) outs.push(...step.outs);
      });
      return { outs: node.ins === undefined ? undefined : outs, result: table.parallel(results, node, spec) };
    }
    default:
      return table.primitive(spec, node);
  }
};

/** Children run one after another, in reverse in the inverse direction when values flow. */
const sequence = <V, R>(
  spec: ChainSpec | RepeatSpec,
  children: readonly FlowSpec[],
  pathOf: (i: number) => string,
  table: FoldTable<V, R>,
  node: Node<V>,
): Step<V, R> => {
  const order = children.map((_, i) => i);
  if (node.ins !== undefined && node.dir === 'inverse') order.reverse();
  const results = new Array<R>(children.length);
  let values = node.ins;
  for (const i of order) {
    const step = walk(children[i] as FlowSpec, table, {
      path: pathOf(i),
      paramPath: joinParamPath(node.paramPath, i),
      dir: node.dir,
      params: childParams(node.params, i, node.paramPath),
      ins: values,
    });
    results[i] = step.result;
    values = node.ins === undefined ? undefined : step.outs;
  }
  return { outs: values, result: table.sequence(results, node, spec) };
};

/**
 * The kinds the exporters wrote by hand before the op algebra (src/algebra/ops.ts): a closed list
 * that never grows. A kind registered since is written on the algebra only, and an interpreter's
 * per-kind table may leave it out (its fallback then interprets the kind's `algebra`). The list
 * shrinks to nothing once every engine interprets the algebra.
 */
export const handWrittenKinds = [
  'affine', 'actnorm', 'inv1x1', 'inv1x1LU', 'affineCoupling', 'additiveCoupling', 'conditionalAffine', 'splineCoupling',
  'squeeze', 'unsqueeze', 'permute', 'logit', 'identity', 'split', 'concat', 'exp', 'maskedAutoregressive',
  'softplus', 'tanh', 'scaleShift', 'batchNorm', 'reshape',
] as const;

/** One of `handWrittenKinds`. */
export type HandWrittenKind = (typeof handWrittenKinds)[number];

/** One entry of a per-kind table: what an interpreter does at a primitive of kind K. */
export type KindEntry<V, R, K extends PrimitiveSpec['kind']> = (spec: Extract<PrimitiveSpec, { readonly kind: K }>, node: Node<V>) => Step<V, R>;

/**
 * A fold table's primitive entries by kind (for interpreters that do something different per kind,
 * e.g. exporters): required for every `HandWrittenKind` (a missing one is a compile error), optional
 * for the kinds written on the algebra only.
 */
export type PerKind<V, R> = { readonly [K in HandWrittenKind & PrimitiveSpec['kind']]: KindEntry<V, R, K> } & {
  readonly [K in Exclude<PrimitiveSpec['kind'], HandWrittenKind>]?: KindEntry<V, R, K>;
};

/**
 * A fold table's primitive entry from a per-kind table; a kind without an entry goes to `fallback`
 * (an engine's interpretation of the kind's `algebra`), or is an error naming the kind.
 */
export const byKind =
  <V, R>(perKind: PerKind<V, R>, fallback?: (spec: PrimitiveSpec, node: Node<V>) => Step<V, R>) =>
  (spec: PrimitiveSpec, node: Node<V>): Step<V, R> => {
    const entry = (perKind as { readonly [kind: string]: ((spec: PrimitiveSpec, node: Node<V>) => Step<V, R>) | undefined })[spec.kind];
    if (entry !== undefined) return entry(spec, node);
    if (fallback !== undefined) return fallback(spec, node);
    throw new TypeError(`this interpreter has no entry for the kind '${spec.kind}' and no fallback to its algebra`);
  };
