/**
 * The shape interpreter: infers the input shapes, output shapes and conditioning of a spec, or reports
 * every problem with the path of the node it is in. Pure (no tensors), so specs can be checked anywhere.
 */
import * as E from 'fp-ts/lib/Either.js';
import { SpecError, type SpecIssue } from '../dsl/errors.js';
import { formatShape, isDim, sameShape, type CondShapes, type Shape3 } from '../dsl/shape.js';
import type { FlowSpec, PrimitiveSpec } from '../dsl/spec.js';

export interface Signature {
  readonly ins: readonly Shape3[];
  readonly outs: readonly Shape3[];
  readonly cond: CondShapes;
}

type Result = E.Either<readonly SpecIssue[], Signature>;

const fail = (path: string, message: string): Result => E.left([{ path, message }]);
const one = (input: Shape3, output: Shape3, cond: CondShapes = {}): Result =>
  E.right({ ins: [input], outs: [output], cond });

const checkShape3 = (s: unknown, path: string): SpecIssue[] =>
  Array.isArray(s) && s.length === 3 && s.every(isDim)
    ? []
    : [{ path, message: `expected an event shape [C,H,W] of three positive integers, got ${JSON.stringify(s)}` }];

const checkCond = (cond: CondShapes, shape: Shape3, path: string): SpecIssue[] =>
  Object.entries(cond).flatMap(([name, s]) => {
    const bad = checkShape3(s, `${path}.cond.${name}`);
    if (bad.length > 0) return bad;
    return s[1] === shape[1] && s[2] === shape[2]
      ? []
      : [{ path: `${path}.cond.${name}`, message: `conditioning ${formatShape(s)} must have the flowing tensor's height and width ${shape[1]}x${shape[2]}` }];
  });

const checkNet = (spec: Extract<PrimitiveSpec, { net: unknown }>, path: string): SpecIssue[] => {
  const issues: SpecIssue[] = [];
  if (!isDim(spec.net.hidden)) issues.push({ path: `${path}.net.hidden`, message: `expected a positive integer, got ${spec.net.hidden}` });
  spec.net.kernels.forEach((k, i) => {
    if (!isDim(k) || k % 2 === 0) issues.push({ path: `${path}.net.kernels[${i}]`, message: `expected an odd positive kernel size, got ${k}` });
  });
  return issues;
};

const primitiveSignature = (spec: PrimitiveSpec, path: string): Result => {
  const shapeIssues = checkShape3(spec.shape, `${path}.shape`);
  if (shapeIssues.length > 0) return E.left(shapeIssues);
  const [c, h, w] = spec.shape;
  switch (spec.kind) {
    case 'affine':
    case 'actnorm':
    case 'inv1x1':
    case 'inv1x1LU':
    case 'identity':
      return one(spec.shape, spec.shape);
    case 'squeeze':
      if (h % 2 !== 0 || w % 2 !== 0)
        return fail(`${path}.shape`, `squeeze needs an even height and width, got ${formatShape(spec.shape)}`);
      return one(spec.shape, [4 * c, h / 2, w / 2]);
    case 'unsqueeze':
      if (c % 4 !== 0) return fail(`${path}.shape`, `unsqueeze needs channels divisible by 4, got ${formatShape(spec.shape)}`);
      return one(spec.shape, [c / 4, 2 * h, 2 * w]);
    case 'permute': {
      const sorted = [...spec.perm].sort((a, b) => a - b);
      const ok = spec.perm.length === c && sorted.every((v, i) => v === i);
      return ok ? one(spec.shape, spec.shape) : fail(`${path}.perm`, `expected a permutation of 0..${c - 1}, got ${JSON.stringify(spec.perm)}`);
    }
    case 'logit':
      if (!(spec.alpha >= 0 && spec.alpha < 1)) return fail(`${path}.alpha`, `expected 0 <= alpha < 1, got ${spec.alpha}`);
      if (!(spec.levels > 0)) return fail(`${path}.levels`, `expected a positive number of levels, got ${spec.levels}`);
      return one(spec.shape, spec.shape);
    case 'affineCoupling':
    case 'additiveCoupling':
    case 'conditionalAffine':
    case 'splineCoupling': {
      const issues = [...checkCond(spec.cond, spec.shape, path), ...checkNet(spec, path)];
      if (spec.kind !== 'conditionalAffine' && c < 2)
        issues.push({ path: `${path}.shape`, message: `a coupling needs at least 2 channels to split, got ${formatShape(spec.shape)}` });
      if (spec.kind === 'conditionalAffine' && Object.keys(spec.cond).length === 0)
        issues.push({ path: `${path}.cond`, message: 'a conditional affine layer needs at least one conditioning input' });
      if ((spec.kind === 'affineCoupling' || spec.kind === 'conditionalAffine') && !(spec.clamp > 0))
        issues.push({ path: `${path}.clamp`, message: `expected a positive clamp, got ${spec.clamp}` });
      if (spec.kind === 'splineCoupling') {
        if (!isDim(spec.bins)) issues.push({ path: `${path}.bins`, message: `expected a positive integer, got ${spec.bins}` });
        if (!(spec.bound > 0)) issues.push({ path: `${path}.bound`, message: `expected a positive bound, got ${spec.bound}` });
      }
      return issues.length > 0 ? E.left(issues) : one(spec.shape, spec.shape, spec.cond);
    }
  }
};

const mergeCond = (a: CondShapes, b: CondShapes, path: string): E.Either<readonly SpecIssue[], CondShapes> => {
  for (const [name, s] of Object.entries(b)) {
    const prior = a[name];
    if (prior !== undefined && !sameShape(prior, s))
      return E.left([{ path, message: `conditioning '${name}' is used with two shapes: ${formatShape(prior)} and ${formatShape(s)}` }]);
  }
  return E.right({ ...a, ...b });
};

const sequence = (steps: readonly FlowSpec[], path: (i: number) => string, where: string): Result => {
  if (steps.length === 0) return fail(where, 'expected at least one step');
  let acc: Signature | undefined;
  for (const [i, step] of steps.entries()) {
    const sig = signatureAt(step, path(i));
    if (E.isLeft(sig)) return sig;
    if (acc === undefined) {
      acc = sig.right;
      continue;
    }
    const prev = acc.outs;
    const next = sig.right.ins;
    if (prev.length !== next.length || !prev.every((s, j) => sameShape(s, next[j] ?? []))) {
      return fail(path(i), `expects input ${next.map(formatShape).join(', ')} but the previous step gives ${prev.map(formatShape).join(', ')}`);
    }
    const cond = mergeCond(acc.cond, sig.right.cond, path(i));
    if (E.isLeft(cond)) return cond;
    acc = { ins: acc.ins, outs: sig.right.outs, cond: cond.right };
  }
  return E.right(acc as Signature);
};

/** Infers the signature of the node at `path`. */
export const signatureAt = (spec: FlowSpec, path: string): Result => {
  switch (spec.kind) {
    case 'split': {
      const bad = checkShape3(spec.shape, `${path}.shape`);
      if (bad.length > 0) return E.left(bad);
      const [c, h, w] = spec.shape;
      if (!(Number.isInteger(spec.at) && spec.at > 0 && spec.at < c))
        return fail(`${path}.at`, `cannot split ${c} channels at ${spec.at}: expected 0 < at < ${c}`);
      return E.right({ ins: [spec.shape], outs: [[spec.at, h, w], [c - spec.at, h, w]], cond: {} });
    }
    case 'concat': {
      const bad = [...checkShape3(spec.shapes[0], `${path}.shapes[0]`), ...checkShape3(spec.shapes[1], `${path}.shapes[1]`)];
      if (bad.length > 0) return E.left(bad);
      const [a, b] = spec.shapes;
      if (a[1] !== b[1] || a[2] !== b[2])
        return fail(`${path}.shapes`, `cannot concatenate ${formatShape(a)} and ${formatShape(b)}: heights and widths differ`);
      return E.right({ ins: [a, b], outs: [[a[0] + b[0], a[1], a[2]]], cond: {} });
    }
    case 'chain':
      return sequence(spec.steps, (i) => `${path}.steps[${i}]`, `${path}.steps`);
    case 'repeat': {
      if (!isDim(spec.n)) return fail(`${path}.n`, `expected a positive integer, got ${spec.n}`);
      const body = signatureAt(spec.body, `${path}.body`);
      if (E.isLeft(body)) return body;
      const { ins, outs } = body.right;
      if (ins.length !== outs.length || !ins.every((s, i) => sameShape(s, outs[i] ?? [])))
        return fail(`${path}.body`, `a repeated body must map its shapes to themselves, got ${ins.map(formatShape).join(', ')} -> ${outs.map(formatShape).join(', ')}`);
      return body;
    }
    case 'invert': {
      const body = signatureAt(spec.body, `${path}.body`);
      return E.map((s: Signature): Signature => ({ ins: s.outs, outs: s.ins, cond: s.cond }))(body);
    }
    case 'parallel': {
      if (spec.branches.length === 0) return fail(`${path}.branches`, 'expected at least one branch');
      let ins: Shape3[] = [];
      let outs: Shape3[] = [];
      let cond: CondShapes = {};
      for (const [i, branch] of spec.branches.entries()) {
        const sig = signatureAt(branch, `${path}.branches[${i}]`);
        if (E.isLeft(sig)) return sig;
        const merged = mergeCond(cond, sig.right.cond, `${path}.branches[${i}]`);
        if (E.isLeft(merged)) return merged;
        ins = [...ins, ...sig.right.ins];
        outs = [...outs, ...sig.right.outs];
        cond = merged.right;
      }
      return E.right({ ins, outs, cond });
    }
    default:
      return primitiveSignature(spec, path);
  }
};

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

export const inferShapes = (spec: FlowSpec): E.Either<readonly SpecIssue[], Signature> => signatureAt(spec, '$');
