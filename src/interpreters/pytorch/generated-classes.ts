/**
 * A bijector kind written on the op algebra, as a Python class: its definition's `algebra` run on the
 * PyTorch engine (ops.ts) writes `_forward` and `_inverse` line by line, with the spec's constants as
 * literals; its parameters are nn.Parameters (frozen ones buffers) with the checkpoint's names and
 * shapes, so state_dict() keys are the checkpoint's. Identical classes are written once.
 */
import type { AlgebraBijector, ValueNode, ValueTree } from '../../algebra/ops.js';
import * as E from 'fp-ts/lib/Either.js';
import type { ShapeTree } from '../../dsl/params.js';
import type { BijectorDefinition, Signature } from '../../dsl/definition.js';
import { pythonOps, PythonWriter } from './ops.js';
import { pyNumber, pyString } from './python.js';

const IDENTIFIER = /^[A-Za-z_]\w*$/;
const PYTHON_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);
const isAttribute = (name: string): boolean => IDENTIFIER.test(name) && !PYTHON_KEYWORDS.has(name);

const isShapeLeaf = (s: ShapeTree): s is readonly number[] => Array.isArray(s) && s.length > 0 && s.every((d) => typeof d === 'number');

/**
 * The parameter tree as Python expressions (`self.logScale`, `self.net.conv0.kernel`), and the
 * __init__ lines that create it: containers are nn.Modules, leaves under a frozen name buffers.
 */
export const parameterTree = (shapes: ShapeTree, base: string, frozen: ReadonlySet<string>, init: string[], inFrozen: boolean): ValueNode<string> => {
  const entries: Array<readonly [string, ShapeTree]> = Array.isArray(shapes)
    ? (shapes as readonly ShapeTree[]).map((s, i) => [String(i), s] as const)
    : Object.entries(shapes as { readonly [k: string]: ShapeTree });
  const node = (key: string, sub: ShapeTree): ValueNode<string> => {
    const access = isAttribute(key) ? `${base}.${key}` : `getattr(${base}, ${pyString(key)})`;
    const isFrozen = inFrozen || (base === 'self' && frozen.has(key));
    if (isShapeLeaf(sub)) {
      const zeros = `torch.zeros(${sub.map(pyNumber).join(', ')})`;
      init.push(isFrozen ? `${base}.register_buffer(${pyString(key)}, ${zeros})` : `${base}.register_parameter(${pyString(key)}, nn.Parameter(${zeros}))`);
      return access;
    }
    if (Array.isArray(sub) && sub.length === 0) return [];
    init.push(`${base}.add_module(${pyString(key)}, nn.Module())`);
    return parameterTree(sub, access, frozen, init, isFrozen);
  };
  if (Array.isArray(shapes)) return entries.map(([k, s]) => node(k, s));
  return Object.fromEntries(entries.map(([k, s]) => [k, node(k, s)]));
};

const names = (prefix: string, n: number): string[] => (n === 1 ? [prefix] : Array.from({ length: n }, (_, i) => `${prefix}${i}`));
const unpack = (vars: readonly string[]): string => `${vars.join(', ')}${vars.length === 1 ? ',' : ''}`;

/** One pass as a method: inputs unpacked by name, the algebra's lines, outputs and the per-sample log-det. */
const passMethod = <S>(
  method: '_forward' | '_inverse',
  maths: AlgebraBijector<S>['forward'],
  spec: S,
  params: ValueTree<string>,
  inputs: readonly string[],
  cond: readonly string[],
  writer: PythonWriter,
): string[] => {
  const o = pythonOps(writer);
  const ctx = Object.fromEntries(cond.map((name) => [name, `ctx[${pyString(name)}]`]));
  const { outs, logDet } = maths(o, spec, params, inputs, ctx);
  const perSample = writer.literals.has(logDet) ? o.perSample(inputs[0] as string, logDet) : logDet;
  const body = writer.take();
  const listName = method === '_forward' ? 'xs' : 'ys';
  return [`def ${method}(self, ${listName}, ctx):`, ...[`${unpack(inputs)} = ${listName}`, ...body, `return [${outs.join(', ')}], ${perSample}`].map((l) => `    ${l}`)];
};

/** The signature of a spec its definition accepts (the exporter checked the whole spec before). */
const signatureOf = <S extends { readonly kind: string }>(definition: BijectorDefinition<S>, spec: S): Signature => {
  const sig = definition.signature(spec, '$');
  if (E.isLeft(sig)) throw new TypeError(`${spec.kind}: ${sig.left.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return sig.right;
};

/** The fields of a spec that are numbers, strings or booleans (its constants), for the docstring. */
const constantsOf = (spec: { readonly kind: string }): string =>
  Object.entries(spec)
    .filter(([k, v]) => k !== 'kind' && k !== 'shape' && (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'))
    .map(([k, v]) => `${k}=${typeof v === 'number' ? pyNumber(v) : String(v)}`)
    .join(', ');

/** The body of the class of `spec` (everything but its `class` line), from its definition's algebra. */
export const algebraClassBody = <S extends { readonly kind: string }>(definition: BijectorDefinition<S>, algebra: AlgebraBijector<S>, spec: S): string => {
  const sig = signatureOf(definition, spec);
  const init: string[] = [];
  const params = parameterTree(definition.params.shapes(spec), 'self', new Set(definition.params.frozen), init, false) as ValueTree<string>;
  const cond = Object.keys(sig.cond);
  const writer = new PythonWriter();
  const forward = passMethod('_forward', algebra.forward, spec, params, names('x', sig.ins.length), cond, writer);
  const inverse = passMethod('_inverse', algebra.inverse, spec, params, names('y', sig.outs.length), cond, writer);
  const constants = writer.constants().map((c) => `self.register_buffer(${pyString(c.name)}, ${c.init}, persistent=False)`);
  const fields = constantsOf(spec);
  const doc = `"""${spec.kind}${fields === '' ? '' : ` (${fields})`}, written from its definition's algebra (src/dsl)."""`;
  const initMethod = init.length + constants.length === 0 ? [] : ['def __init__(self):', ...['super().__init__()', ...init, ...constants].map((l) => `    ${l}`), ''];
  return [doc, '', ...initMethod, ...forward, '', ...inverse].map((l) => (l === '' ? '' : `    ${l}`)).join('\n');
};

const className = (kind: string): string => `${kind.charAt(0).toUpperCase()}${kind.slice(1)}`;

/** The generated classes of a module: one per distinct body, named after the kind (Logit, Logit2, ...). */
export class GeneratedClasses {
  private readonly byBody = new Map<string, string>();
  private readonly written: string[] = [];
  private readonly taken: Set<string>;

  /** `reserved`: names the module defines otherwise (runtime definitions, the model class). */
  constructor(reserved: Iterable<string>) {
    this.taken = new Set(reserved);
  }

  /** The name of the class of `spec` (written on first use). */
  classOf<S extends { readonly kind: string }>(definition: BijectorDefinition<S>, algebra: AlgebraBijector<S>, spec: S): string {
    const body = algebraClassBody(definition, algebra, spec);
    const known = this.byBody.get(body);
    if (known !== undefined) return known;
    const base = className(spec.kind);
    let name = base;
    for (let i = 2; this.taken.has(name); i++) name = `${base}${i}`;
    this.taken.add(name);
    this.byBody.set(body, name);
    this.written.push(`class ${name}(Flow):\n${body}`);
    return name;
  }

  /** Every class written, in first-use order. */
  code(): string {
    return this.written.join('\n\n\n');
  }
}
