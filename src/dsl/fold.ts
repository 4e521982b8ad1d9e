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
import type { PrimitiveSpec } from './registry.js';
import { signature } from './signature.js';
import type { ChainSpec, FlowSpec, InvertSpec, ParallelSpec, RepeatSpec } from './spec.js';

export type Direction = 'forward' | 'inverse';

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

export interface Step<V, R> {
  /** The values leaving the node in its direction (undefined in a structural fold). */
  readonly outs: readonly V[] | undefined;
  readonly result: R;
}

export interface FoldTable<V, R> {
  readonly primitive: (spec: PrimitiveSpec, node: Node<V>) => Step<V, R>;
  /** A chain's steps or a repeat's copies, in spec order. */
  readonly sequence: (children: readonly R[], node: Node<V>, spec: ChainSpec | RepeatSpec) => R;
  readonly parallel: (branches: readonly R[], node: Node<V>, spec: ParallelSpec) => R;
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
          const sig = signature(branch);
          const arity = node.dir === 'forward' ? sig.ins.length : sig.outs.length;
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
 * A fold table's primitive entry from a table with one entry per registered kind: a kind without an
 * entry is a compile error (for interpreters that do something different per kind, e.g. exporters).
 */
export type PerKind<V, R> = { readonly [K in PrimitiveSpec['kind']]: (spec: Extract<PrimitiveSpec, { readonly kind: K }>, node: Node<V>) => Step<V, R> };

export const byKind =
  <V, R>(perKind: PerKind<V, R>) =>
  (spec: PrimitiveSpec, node: Node<V>): Step<V, R> =>
    (perKind[spec.kind] as (spec: PrimitiveSpec, node: Node<V>) => Step<V, R>)(spec, node);
