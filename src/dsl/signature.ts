/**
 * Shape inference: the input shapes, output shapes and conditioning of a spec, or every problem with
 * the path of the node it is in. A structural fold: each primitive's definition gives its own rule,
 * the combinators' rules are here. Pure (no tensors), so specs can be checked anywhere.
 */
import * as E from 'fp-ts/lib/Either.js';
import { hasOwn } from './codec-parts.js';
import type { Signature, SignatureResult } from './definition.js';
import { SpecError, type SpecIssue } from './errors.js';
import { fold, type FoldTable } from './fold.js';
import { definitionOf } from './registry.js';
import { formatShape, isDim, sameShape, type CondShapes, type Shape } from './shape.js';
import type { FlowSpec } from './spec.js';

export type { Signature } from './definition.js';

const fail = (path: string, message: string): SignatureResult => E.left([{ path, message }]);

const listShapes = (shapes: readonly Shape[]): string => shapes.map(formatShape).join(', ');

const sameShapes = (a: readonly Shape[], b: readonly Shape[]): boolean => a.length === b.length && a.every((s, i) => sameShape(s, b[i] ?? []));

/** Conditioning merged by name (own properties only: a name such as 'constructor' is just a name). */
const mergeCond = (a: CondShapes, b: CondShapes, path: string): E.Either<readonly SpecIssue[], CondShapes> => {
  for (const [name, s] of Object.entries(b)) {
    const prior = hasOwn(a, name) ? a[name] : undefined;
    if (prior !== undefined && !sameShape(prior, s))
      return E.left([{ path, message: `conditioning '${name}' is used with two shapes: ${formatShape(prior)} and ${formatShape(s)}` }]);
  }
  return E.right(Object.fromEntries([...Object.entries(a), ...Object.entries(b)]));
};

const shapeRules: FoldTable<never, SignatureResult> = {
  repeatOnce: true,
  primitive: (spec, node) => ({ outs: undefined, result: definitionOf(spec).signature(spec, node.path) }),
  sequence: (children, { path }, spec) => {
    if (spec.kind === 'repeat') {
      if (!isDim(spec.n)) return fail(`${path}.n`, `expected a positive integer, got ${spec.n}`);
      const body = children[0] as SignatureResult;
      if (E.isLeft(body)) return body;
      const { ins, outs } = body.right;
      return sameShapes(ins, outs)
        ? body
        : fail(`${path}.body`, `a repeated body must map its shapes to themselves, got ${listShapes(ins)} -> ${listShapes(outs)}`);
    }
    if (children.length === 0) return fail(`${path}.steps`, 'expected at least one step');
    let acc: Signature | undefined;
    for (const [i, sig] of children.entries()) {
      if (E.isLeft(sig)) return sig;
      if (acc === undefined) {
        acc = sig.right;
        continue;
      }
      const at = `${path}.steps[${i}]`;
      if (!sameShapes(acc.outs, sig.right.ins))
        return fail(at, `expects input ${listShapes(sig.right.ins)} but the previous step gives ${listShapes(acc.outs)}`);
      const cond = mergeCond(acc.cond, sig.right.cond, at);
      if (E.isLeft(cond)) return cond;
      acc = { ins: acc.ins, outs: sig.right.outs, cond: cond.right };
    }
    return E.right(acc as Signature);
  },
  invert: (body) => E.map((s: Signature): Signature => ({ ins: s.outs, outs: s.ins, cond: s.cond }))(body),
  parallel: (branches, { path }) => {
    if (branches.length === 0) return fail(`${path}.branches`, 'expected at least one branch');
    let ins: Shape[] = [];
    let outs: Shape[] = [];
    let cond: CondShapes = {};
    for (const [i, sig] of branches.entries()) {
      if (E.isLeft(sig)) return sig;
      const merged = mergeCond(cond, sig.right.cond, `${path}.branches[${i}]`);
      if (E.isLeft(merged)) return merged;
      ins = [...ins, ...sig.right.ins];
      outs = [...outs, ...sig.right.outs];
      cond = merged.right;
    }
    return E.right({ ins, outs, cond });
  },
};

/** Infers the signature of the node at `path`. */
export const signatureAt = (spec: FlowSpec, path: string): SignatureResult => fold(spec, shapeRules, { path }).result;

const cache = new WeakMap<FlowSpec, Signature>();

/** The signature of a valid spec, or a SpecError listing what is wrong and where. Cached per node. */
export const signature = (spec: FlowSpec): Signature => {
  const hit = cache.get(spec);
  if (hit !== undefined) return hit;
  const result = signatureAt(spec, '$');
  if (E.isLeft(result)) throw new SpecError(result.left);
  cache.set(spec, result.right);
  return result.right;
};

/** The signature (input, output and conditioning shapes) of a spec, or every shape issue found, each at its path. */
export const inferShapes = (spec: FlowSpec): E.Either<readonly SpecIssue[], Signature> => signatureAt(spec, '$');
