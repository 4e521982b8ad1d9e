/**
 * The PyTorch engine of the op algebra: values are Python expressions (variable names, `self.<param>`,
 * `ctx['D0']`, or number literals for scalars) and each op appends one line `t3 = torch.exp(t2)` to the
 * pass being written. Ops on scalars only are computed here (in float64), so a spec's constants reach
 * the code as literals. `iterate` writes a Python `for` loop with its body written once, when the body
 * does not depend on the step number (else it is unrolled).
 */
import type { Ops } from '../../algebra/ops.js';
import { pyNumber } from './python.js';

/** A constant tensor of a pass: a non-persistent buffer of the generated class. */
export interface PythonConstant {
  readonly name: string;
  readonly init: string;
}

/** The lines written so far and what they need from the class (constants). */
export class PythonWriter {
  private lines: string[] = [];
  private indent = '';
  private counter = 0;
  private readonly constantsByKey = new Map<string, PythonConstant>();
  /** Literal scalars: their expression to their value. */
  readonly literals = new Map<string, number>();

  /** A fresh variable name. */
  fresh(): string {
    return `t${this.counter++}`;
  }

  /** Appends `name = expr` and returns the name. */
  assign(expr: string): string {
    const name = this.fresh();
    this.line(`${name} = ${expr}`);
    return name;
  }

  /** Appends a line at the current indentation. */
  line(text: string): void {
    this.lines.push(`${this.indent}${text}`);
  }

  /** The lines written, and a fresh start for the next pass (constants are kept: they are the class's). */
  take(): string[] {
    const out = this.lines;
    this.lines = [];
    this.counter = 0;
    return out;
  }

  /** The buffer holding a constant tensor (one per distinct value). */
  constant(values: ArrayLike<number>, shape: readonly number[]): string {
    const list = `[${Array.from(values, pyNumber).join(', ')}]`;
    const key = `${list}:${shape.join(',')}`;
    let c = this.constantsByKey.get(key);
    if (c === undefined) {
      c = { name: `const${this.constantsByKey.size}`, init: `torch.tensor(${list}, dtype=torch.float32).reshape(${shape.join(', ')}${shape.length === 1 ? ',' : ''})` };
      this.constantsByKey.set(key, c);
    }
    return `self.${c.name}`;
  }

  /** The constant tensors used so far (the class registers them in __init__). */
  constants(): readonly PythonConstant[] {
    return [...this.constantsByKey.values()];
  }

  /** Runs `write` on a scratch copy of the writer's state: its lines, and the state restored afterwards. */
  trial<R>(write: () => R): { readonly lines: readonly string[]; readonly result: R; readonly keep: () => void } {
    const saved = { lines: this.lines, counter: this.counter, constants: new Map(this.constantsByKey) };
    this.lines = [];
    const result = write();
    const lines = this.lines;
    const after = { counter: this.counter, constants: new Map(this.constantsByKey) };
    this.lines = saved.lines;
    this.counter = saved.counter;
    this.restoreConstants(saved.constants);
    return {
      lines,
      result,
      keep: () => {
        this.lines.push(...lines);
        this.counter = after.counter;
        this.restoreConstants(after.constants);
      },
    };
  }

  /** Writes `body` one level deeper (a loop's body). */
  indented(body: () => void): void {
    const saved = this.indent;
    this.indent = `${saved}    `;
    body();
    this.indent = saved;
  }

  private restoreConstants(from: ReadonlyMap<string, PythonConstant>): void {
    this.constantsByKey.clear();
    for (const [k, v] of from) this.constantsByKey.set(k, v);
  }
}

/** Python's float for a value computed here, normalising -0. */
const literal = (w: PythonWriter, value: number): string => {
  const text = pyNumber(value === 0 ? 0 : value);
  w.literals.set(text, value);
  return text;
};

const softplus = (a: number): number => Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));

/** The op algebra writing Python source into `w`. */
export const pythonOps = (w: PythonWriter): Ops<string> => {
  const valueOf = (a: string): number | undefined => w.literals.get(a);
  /** A unary op: folded on a literal, else one line. */
  const unary =
    (python: (a: string) => string, js: (a: number) => number) =>
    (a: string): string => {
      const v = valueOf(a);
      return v !== undefined ? literal(w, js(v)) : w.assign(python(a));
    };
  /** A binary op: folded on two literals, else one line (a literal operand stays inline). */
  const binary =
    (python: (a: string, b: string) => string, js: (a: number, b: number) => number) =>
    (a: string, b: string): string => {
      const va = valueOf(a);
      const vb = valueOf(b);
      return va !== undefined && vb !== undefined ? literal(w, js(va, vb)) : w.assign(python(a, b));
    };
  /** A tensor operand where torch wants one: a literal becomes a tensor like `like`. */
  const tensorLike = (a: string, like: string): string => (valueOf(a) !== undefined && valueOf(like) === undefined ? `torch.full_like(${like}, ${a})` : a);
  const lastSlice = (a: string, begin: number, size: number): string => `${a}[..., ${begin}:${begin + size}]`;

  return {
    engine: 'pytorch',
    isValue: (v): v is string => typeof v === 'string',

    scalar: (c) => literal(w, c),
    constant: (values, shape) => w.constant(values, shape),

    add: binary((a, b) => `${a} + ${b}`, (a, b) => a + b),
    sub: binary((a, b) => `${a} - ${b}`, (a, b) => a - b),
    mul: binary((a, b) => `${a} * ${b}`, (a, b) => a * b),
    div: binary((a, b) => `${a} / ${b}`, (a, b) => a / b),
    neg: unary((a) => `-${a}`, (a) => -a),
    square: unary((a) => `torch.square(${a})`, (a) => a * a),
    sqrt: unary((a) => `torch.sqrt(${a})`, Math.sqrt),
    abs: unary((a) => `torch.abs(${a})`, Math.abs),
    maximum: binary(
      (a, b) => (valueOf(b) !== undefined ? `torch.clamp(${a}, min=${b})` : valueOf(a) !== undefined ? `torch.clamp(${b}, min=${a})` : `torch.maximum(${a}, ${b})`),
      Math.max,
    ),
    minimum: binary(
      (a, b) => (valueOf(b) !== undefined ? `torch.clamp(${a}, max=${b})` : valueOf(a) !== undefined ? `torch.clamp(${b}, max=${a})` : `torch.minimum(${a}, ${b})`),
      Math.min,
    ),

    exp: unary((a) => `torch.exp(${a})`, Math.exp),
    log: unary((a) => `torch.log(${a})`, Math.log),
    log1p: unary((a) => `torch.log1p(${a})`, Math.log1p),
    expm1: unary((a) => `torch.expm1(${a})`, Math.expm1),
    softplus: unary((a) => `F.softplus(${a})`, softplus),
    logSigmoid: unary((a) => `F.logsigmoid(${a})`, (a) => -softplus(-a)),
    sigmoid: unary((a) => `torch.sigmoid(${a})`, (a) => 1 / (1 + Math.exp(-a))),
    tanh: unary((a) => `torch.tanh(${a})`, Math.tanh),
    atan: unary((a) => `torch.atan(${a})`, Math.atan),
    sin: unary((a) => `torch.sin(${a})`, Math.sin),
    cos: unary((a) => `torch.cos(${a})`, Math.cos),
    sinh: unary((a) => `torch.sinh(${a})`, Math.sinh),
    cosh: unary((a) => `torch.cosh(${a})`, Math.cosh),
    asinh: unary((a) => `torch.asinh(${a})`, Math.asinh),
    relu: unary((a) => `torch.relu(${a})`, (a) => Math.max(a, 0)),
    elu: unary((a) => `F.elu(${a})`, (a) => (a >= 0 ? a : Math.expm1(a))),
    clip: (a, low, high) => unary((x) => `torch.clamp(${x}, ${pyNumber(low)}, ${pyNumber(high)})`, (x) => Math.min(Math.max(x, low), high))(a),

    greaterEqual: (a, b) => w.assign(`${a} >= ${b}`),
    less: (a, b) => w.assign(`${a} < ${b}`),
    where: (cond, a, b) => w.assign(`torch.where(${cond}, ${tensorLike(a, b)}, ${tensorLike(b, a)})`),

    sumEvent: (a) => w.assign(`${a}.reshape(${a}.shape[0], -1).sum(1)`),
    sumLast: (a) => w.assign(`${a}.sum(-1)`),
    softmaxLast: (a) => w.assign(`torch.softmax(${a}, -1)`),
    cumsumLast: (a) => w.assign(`torch.cumsum(${a}, -1)`),
    sumAll: (a) => w.assign(`${a}.sum()`),

    zerosLike: (like) => w.assign(`torch.zeros_like(${like})`),
    perSample: (like, value) =>
      w.assign(valueOf(value) !== undefined ? `${like}.new_full((${like}.shape[0],), ${value})` : `${value}.expand(${like}.shape[0])`),

    splitLast: (a, sizes) => {
      let begin = 0;
      return sizes.map((size) => {
        const piece = w.assign(lastSlice(a, begin, size));
        begin += size;
        return piece;
      });
    },
    concatLast: (parts) => (parts.length === 1 ? (parts[0] as string) : w.assign(`torch.cat([${parts.join(', ')}], -1)`)),
    sliceLast: (a, begin, size) => w.assign(lastSlice(a, begin, size)),
    reshape: (a, dims) => w.assign(`${a}.reshape(${a}.shape[0], ${dims.map(pyNumber).join(', ')})`),
    transpose: (a, perm) => w.assign(`${a}.permute(${perm.join(', ')})`),
    padLast: (a, before, after, value) => w.assign(`F.pad(${a}, (${pyNumber(before)}, ${pyNumber(after)}), value=${pyNumber(value)})`),
    gatherLast: (a, indices) => w.assign(`${a}[..., [${indices.join(', ')}]]`),

    matmul: (a, b) => w.assign(`matmul_last(${a}, ${b})`),
    mixChannels: (x, m) => w.assign(`mix_channels(${x}, ${m})`),
    // In float64, as the tfjs engine computes them (an LU factorisation in JavaScript).
    logAbsDet: (m) => w.assign(`log_abs_det(${m})`),
    inverseMatrix: (m) => w.assign(`inverse_matrix(${m})`),
    conv2d: (x, kernel, bias) => w.assign(`conv_same(${x}, ${kernel}, ${bias})`),
    conv2dRelu: (x, kernel, bias) => w.assign(`torch.relu(conv_same(${x}, ${kernel}, ${bias}))`),

    iterate: (n, state, body, until) => {
      if (n === 0) return state;
      // The loop's state lives in variables of its own, updated at the end of each step; the body is
      // written once, with the step number as the loop variable.
      const vars = state.map(() => w.fresh());
      const tuple = (names: readonly string[]): string => `${names.join(', ')}${names.length === 1 ? ',' : ''}`;
      w.line(`${tuple(vars)} = ${tuple(state)}`);
      const i = w.fresh();
      w.line(`for ${i} in range(${n}):`);
      w.indented(() => {
        if (until !== undefined) w.line(`if bool(${until(vars)}.all()):`), w.indented(() => w.line('break'));
        w.line(`${tuple(vars)} = ${tuple(body(i, vars))}`);
      });
      return vars;
    },
  };
};
