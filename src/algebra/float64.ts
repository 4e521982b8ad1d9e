/**
 * The float64 engine of the op algebra: plain JavaScript arrays with shapes, for small shapes. It is
 * the precise reference that `verify` compares the float32 engines with (src/interpreters/float64.ts):
 * the same maths, 53 bits instead of 24.
 *
 * `roundedOps(Math.fround)` is the same engine rounding every op's result to float32: what a correctly
 * rounded float32 engine computes for the same maths, hence a measure of float32's own error for a
 * given formula and input (verify uses it to tell a wrong formula from float32's limits).
 *
 * Core code: no Node or tfjs imports (conversions to tf.Tensor live in float64-tfjs.ts).
 */
import { invert, slogdet } from '../dsl/maths/linalg.js';
import type { Ops } from './ops.js';

/** A row-major float64 array with its shape (no batch axis implied: the shape is all of it). */
export interface Float64Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** The result of a comparison: a row-major 0/1 array, which only `where` consumes. */
export interface Float64Mask {
  readonly shape: readonly number[];
  readonly mask: Uint8Array;
}

/** A value of the float64 engine. */
export type Float64Value = Float64Tensor | Float64Mask;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A float64 tensor of the given shape and values (copied). */
export const float64Tensor = (shape: readonly number[], values: ArrayLike<number>): Float64Tensor => {
  if (values.length !== sizeOf(shape)) throw new RangeError(`float64 tensor of shape [${shape.join(',')}] needs ${sizeOf(shape)} values, got ${values.length}`);
  return { shape: [...shape], data: Float64Array.from(values) };
};

export const isFloat64Tensor = (v: unknown): v is Float64Tensor =>
  typeof v === 'object' && v !== null && (v as { data?: unknown }).data instanceof Float64Array && Array.isArray((v as { shape?: unknown }).shape);

const isMask = (v: unknown): v is Float64Mask =>
  typeof v === 'object' && v !== null && (v as { mask?: unknown }).mask instanceof Uint8Array && Array.isArray((v as { shape?: unknown }).shape);

const tensor = (v: Float64Value, op: string): Float64Tensor => {
  if (!isFloat64Tensor(v)) throw new TypeError(`float64 ${op}: expected a tensor, got a mask`);
  return v;
};

const mask = (v: Float64Value, op: string): Float64Mask => {
  if (!isMask(v)) throw new TypeError(`float64 ${op}: expected a mask (the result of a comparison), got a tensor`);
  return v;
};

const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;

/** numpy's broadcast shape of several shapes (trailing axes aligned). */
export const broadcastShape = (...shapes: ReadonlyArray<readonly number[]>): number[] => {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => {
    let d = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1;
      if (e !== 1 && d !== 1 && e !== d) throw new RangeError(`float64: shapes ${shapes.map(fmt).join(', ')} do not broadcast`);
      if (e !== 1) d = e;
    }
    return d;
  });
};

/** Row-major strides. */
const stridesOf = (shape: readonly number[]): number[] => {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] as number;
  }
  return strides;
};

/** For each element of `out`, the index of the element of an array of shape `from` broadcast to it. */
const broadcastIndex = (from: readonly number[], out: readonly number[]): Int32Array => {
  const n = sizeOf(out);
  const idx = new Int32Array(n);
  const offset = out.length - from.length;
  const fromStrides = stridesOf(from);
  const outStrides = stridesOf(out);
  for (let i = 0; i < n; i++) {
    let j = 0;
    for (let a = 0; a < from.length; a++) {
      const d = from[a] as number;
      if (d === 1) continue;
      const coord = Math.floor(i / (outStrides[a + offset] as number)) % (out[a + offset] as number);
      j += coord * (fromStrides[a] as number);
    }
    idx[i] = j;
  }
  return idx;
};

/** The last axis' length and the number of rows before it. */
const lastSplit = (shape: readonly number[]): { rows: number; last: number } => {
  const last = shape[shape.length - 1] ?? 1;
  return { rows: last === 0 ? sizeOf(shape.slice(0, -1)) : sizeOf(shape) / last, last };
};

/** log(1 + exp(a)) without overflow, and without losing exp(a) under 1 for a << 0. */
const softplusOf = (a: number): number => (a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a)));
/** 1 / (1 + exp(-a)) without overflow in exp for either sign. */
const sigmoidOf = (a: number): number => {
  if (a >= 0) return 1 / (1 + Math.exp(-a));
  const e = Math.exp(a);
  return e / (1 + e);
};

/**
 * The float64 engine, with `round` applied to every op's result (and constant): the identity gives the
 * float64 reference, Math.fround a float32 engine that rounds each op correctly.
 */
export const roundedOps = (engine: string, round: (x: number) => number): Ops<Float64Value> => {
  const make = (shape: readonly number[], data: Float64Array): Float64Tensor => {
    for (let i = 0; i < data.length; i++) data[i] = round(data[i] as number);
    return { shape: [...shape], data };
  };
  const unary =
    (op: string, f: (x: number) => number) =>
    (v: Float64Value): Float64Value => {
      const a = tensor(v, op);
      return make(a.shape, a.data.map(f));
    };
  /** f over the broadcast pairs of two tensors, into an array of the broadcast shape made by `alloc`. */
  const pairs = <A extends Float64Array | Uint8Array>(op: string, va: Float64Value, vb: Float64Value, alloc: (n: number) => A, f: (x: number, y: number) => number) => {
    const a = tensor(va, op);
    const b = tensor(vb, op);
    const shape = broadcastShape(a.shape, b.shape);
    const ia = broadcastIndex(a.shape, shape);
    const ib = broadcastIndex(b.shape, shape);
    const out = alloc(sizeOf(shape));
    for (let i = 0; i < out.length; i++) out[i] = f(a.data[ia[i] as number] as number, b.data[ib[i] as number] as number);
    return { shape, out };
  };
  const binary =
    (op: string, f: (x: number, y: number) => number) =>
    (va: Float64Value, vb: Float64Value): Float64Value => {
      const { shape, out } = pairs(op, va, vb, (n) => new Float64Array(n), f);
      return make(shape, out);
    };
  const compare =
    (op: string, f: (x: number, y: number) => boolean) =>
    (va: Float64Value, vb: Float64Value): Float64Value => {
      const { shape, out } = pairs(op, va, vb, (n) => new Uint8Array(n), (x, y) => (f(x, y) ? 1 : 0));
      return { shape, mask: out };
    };
  /** Applies `f` to each row of the last axis, writing one value per row when it `reduces` (the axis dropped), else a row. */
  const rows = (v: Float64Value, op: string, reduces: boolean, f: (row: Float64Array, out: Float64Array) => void): Float64Tensor => {
    const a = tensor(v, op);
    const { rows: n, last } = lastSplit(a.shape);
    const width = reduces ? 1 : last;
    const data = new Float64Array(n * width);
    for (let r = 0; r < n; r++) f(a.data.subarray(r * last, (r + 1) * last), data.subarray(r * width, (r + 1) * width));
    return make(reduces ? a.shape.slice(0, -1) : a.shape, data);
  };
  const sliceLast = (v: Float64Value, begin: number, size: number): Float64Tensor => {
    const a = tensor(v, 'sliceLast');
    const last = a.shape[a.shape.length - 1] ?? 1;
    if (begin < 0 || size < 0 || begin + size > last) throw new RangeError(`float64 sliceLast: [${begin}, ${begin + size}) is outside a last axis of ${last}`);
    const n = lastSplit(a.shape).rows;
    const data = new Float64Array(n * size);
    for (let r = 0; r < n; r++) data.set(a.data.subarray(r * last + begin, r * last + begin + size), r * size);
    return { shape: [...a.shape.slice(0, -1), size], data };
  };

  const ops: Ops<Float64Value> = {
    engine,
    isValue: (v): v is Float64Value => isFloat64Tensor(v) || isMask(v),

    scalar: (c) => make([], Float64Array.of(c)),
    constant: (values, shape) => make(shape, float64Tensor(shape, values).data),

    add: binary('add', (x, y) => x + y),
    sub: binary('sub', (x, y) => x - y),
    mul: binary('mul', (x, y) => x * y),
    div: binary('div', (x, y) => x / y),
    neg: unary('neg', (x) => -x),
    square: unary('square', (x) => x * x),
    sqrt: unary('sqrt', Math.sqrt),
    abs: unary('abs', Math.abs),
    maximum: binary('maximum', Math.max),
    minimum: binary('minimum', Math.min),

    exp: unary('exp', Math.exp),
    log: unary('log', Math.log),
    log1p: unary('log1p', Math.log1p),
    expm1: unary('expm1', Math.expm1),
    softplus: unary('softplus', softplusOf),
    logSigmoid: unary('logSigmoid', (x) => -softplusOf(-x)),
    sigmoid: unary('sigmoid', sigmoidOf),
    tanh: unary('tanh', Math.tanh),
    atan: unary('atan', Math.atan),
    sin: unary('sin', Math.sin),
    elu: unary('elu', (a) => (a >= 0 ? a : Math.expm1(a))),
    cos: unary('cos', Math.cos),
    sinh: unary('sinh', Math.sinh),
    cosh: unary('cosh', Math.cosh),
    // Math.asinh is odd-symmetric and accurate for tiny and huge |a| (no log(a + sqrt(a^2 + 1)) cancellation).
    asinh: unary('asinh', Math.asinh),
    relu: unary('relu', (x) => Math.max(x, 0)),
    clip: (a, low, high) => unary('clip', (x) => Math.min(Math.max(x, low), high))(a),

    greaterEqual: compare('greaterEqual', (x, y) => x >= y),
    less: compare('less', (x, y) => x < y),
    where: (vc, va, vb) => {
      const c = mask(vc, 'where');
      const a = tensor(va, 'where');
      const b = tensor(vb, 'where');
      const shape = broadcastShape(c.shape, a.shape, b.shape);
      const [ic, ia, ib] = [broadcastIndex(c.shape, shape), broadcastIndex(a.shape, shape), broadcastIndex(b.shape, shape)];
      const data = new Float64Array(sizeOf(shape));
      for (let i = 0; i < data.length; i++) data[i] = (c.mask[ic[i] as number] === 1 ? a.data[ia[i] as number] : b.data[ib[i] as number]) as number;
      return make(shape, data);
    },

    sumEvent: (v) => {
      const a = tensor(v, 'sumEvent');
      const n = a.shape[0] ?? 1;
      const per = n === 0 ? 0 : a.data.length / n;
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = a.data.subarray(i * per, (i + 1) * per).reduce((s, x) => s + x, 0);
      return make([n], data);
    },
    sumLast: (v) => rows(v, 'sumLast', true, (row, out) => (out[0] = row.reduce((s, x) => s + x, 0))),
    softmaxLast: (v) =>
      rows(v, 'softmaxLast', false, (row, out) => {
        const top = Math.max(...row);
        let total = 0;
        row.forEach((x, i) => (total += out[i] = Math.exp(x - top)));
        out.forEach((x, i) => (out[i] = x / total));
      }),
    cumsumLast: (v) =>
      rows(v, 'cumsumLast', false, (row, out) => {
        let s = 0;
        row.forEach((x, i) => (out[i] = s += x));
      }),
    sumAll: (v) => make([], Float64Array.of(tensor(v, 'sumAll').data.reduce((s, x) => s + x, 0))),

    zerosLike: (like) => make([...tensor(like, 'zerosLike').shape], new Float64Array(tensor(like, 'zerosLike').data.length)),
    perSample: (like, value) => {
      const n = like.shape[0] ?? 1;
      const c = tensor(value, 'perSample');
      if (c.data.length !== 1) throw new RangeError(`float64 perSample: expected a scalar value, got shape ${fmt(c.shape)}`);
      return make([n], new Float64Array(n).fill(c.data[0] as number));
    },

    splitLast: (a, sizes) => {
      let begin = 0;
      return sizes.map((s) => {
        const piece = sliceLast(a, begin, s);
        begin += s;
        return piece;
      });
    },
    concatLast: (vs) => {
      const parts = vs.map((v) => tensor(v, 'concatLast'));
      const first = parts[0];
      if (first === undefined) throw new RangeError('float64 concatLast: nothing to concatenate');
      const lead = first.shape.slice(0, -1);
      const lasts = parts.map((p) => {
        if (fmt(p.shape.slice(0, -1)) !== fmt(lead)) throw new RangeError(`float64 concatLast: shapes ${parts.map((q) => fmt(q.shape)).join(', ')} differ before the last axis`);
        return p.shape[p.shape.length - 1] ?? 1;
      });
      const width = lasts.reduce((a, b) => a + b, 0);
      const n = sizeOf(lead);
      const data = new Float64Array(n * width);
      for (let r = 0; r < n; r++) {
        let at = r * width;
        parts.forEach((p, k) => {
          const last = lasts[k] as number;
          data.set(p.data.subarray(r * last, (r + 1) * last), at);
          at += last;
        });
      }
      return { shape: [...lead, width], data };
    },
    sliceLast,
    padLast: (v, before, after, value) => {
      const a = tensor(v, 'padLast');
      const last = a.shape[a.shape.length - 1] ?? 1;
      const width = before + last + after;
      const n = lastSplit(a.shape).rows;
      const data = new Float64Array(n * width).fill(value);
      for (let r = 0; r < n; r++) data.set(a.data.subarray(r * last, (r + 1) * last), r * width + before);
      return make([...a.shape.slice(0, -1), width], data);
    },
    reshape: (v, dims) => {
      const a = tensor(v, 'reshape');
      // One dim may be -1 (inferred), as in tf.reshape.
      const known = sizeOf([a.shape[0] ?? 1, ...dims.filter((d) => d !== -1)]);
      const shape = [a.shape[0] ?? 1, ...dims.map((d) => (d === -1 ? a.data.length / known : d))];
      if (dims.filter((d) => d === -1).length > 1 || sizeOf(shape) !== a.data.length || !shape.every(Number.isInteger)) throw new RangeError(`float64 reshape: cannot reshape ${fmt(a.shape)} to ${fmt(shape)}`);
      return { shape, data: a.data.slice() };
    },
    transpose: (v, perm) => {
      const a = tensor(v, 'transpose');
      if (perm.length !== a.shape.length) throw new RangeError(`float64 transpose: permutation ${fmt(perm)} for shape ${fmt(a.shape)}`);
      const shape = perm.map((p) => a.shape[p] as number);
      const inStrides = stridesOf(a.shape);
      const outStrides = stridesOf(shape);
      const data = new Float64Array(a.data.length);
      for (let i = 0; i < data.length; i++) {
        let j = 0;
        for (let k = 0; k < perm.length; k++) j += (Math.floor(i / (outStrides[k] as number)) % (shape[k] as number)) * (inStrides[perm[k] as number] as number);
        data[i] = a.data[j] as number;
      }
      return { shape, data };
    },
    gatherLast: (v, indices) => {
      const a = tensor(v, 'gatherLast');
      const last = a.shape[a.shape.length - 1] ?? 1;
      const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= last);
      if (bad !== undefined) throw new RangeError(`float64 gatherLast: index ${bad} is outside a last axis of ${last}`);
      const n = lastSplit(a.shape).rows;
      const data = new Float64Array(n * indices.length);
      for (let r = 0; r < n; r++) indices.forEach((ix, k) => (data[r * indices.length + k] = a.data[r * last + ix] as number));
      return { shape: [...a.shape.slice(0, -1), indices.length], data };
    },

    matmul: (va, vb) => {
      const a = tensor(va, 'matmul');
      const b = tensor(vb, 'matmul');
      const k = a.shape[a.shape.length - 1] as number;
      const [bk, m] = b.shape as [number, number];
      if (b.shape.length !== 2 || bk !== k) throw new RangeError(`float64 matmul: ${fmt(a.shape)} times ${fmt(b.shape)}`);
      const n = a.data.length / k;
      const data = new Float64Array(n * m);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let i = 0; i < k; i++) s += (a.data[r * k + i] as number) * (b.data[i * m + j] as number);
          data[r * m + j] = s;
        }
      return make([...a.shape.slice(0, -1), m], data);
    },
    mixChannels: (x, w) => ops.matmul(x, ops.transpose(w, [1, 0])),
    logAbsDet: (vw) => {
      const w = tensor(vw, 'logAbsDet');
      return make([], Float64Array.of(slogdet(w.data, w.shape[0] ?? 0).logAbsDet));
    },
    inverseMatrix: (vw) => {
      const w = tensor(vw, 'inverseMatrix');
      return make([...w.shape], invert(w.data, w.shape[0] ?? 0));
    },
    conv2dRelu: (x, kernel, bias) => ops.relu(ops.conv2d(x, kernel, bias)),
    conv2d: (vx, vk, vbias) => {
      const x = tensor(vx, 'conv2d');
      const kernel = tensor(vk, 'conv2d');
      const bias = tensor(vbias, 'conv2d');
      const [n, h, w, cin] = x.shape as [number, number, number, number];
      const [kh, kw, kin, cout] = kernel.shape as [number, number, number, number];
      if (x.shape.length !== 4 || kernel.shape.length !== 4 || kin !== cin || bias.data.length !== cout)
        throw new RangeError(`float64 conv2d: input ${fmt(x.shape)}, kernel ${fmt(kernel.shape)}, bias ${fmt(bias.shape)}`);
      // 'same' at stride 1 pads k - 1 in all, the smaller half before (as TensorFlow does).
      const top = Math.floor((kh - 1) / 2);
      const left = Math.floor((kw - 1) / 2);
      const data = new Float64Array(n * h * w * cout);
      for (let b = 0; b < n; b++)
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++)
            for (let o = 0; o < cout; o++) {
              let s = bias.data[o] as number;
              for (let di = 0; di < kh; di++) {
                const ii = i + di - top;
                if (ii < 0 || ii >= h) continue;
                for (let dj = 0; dj < kw; dj++) {
                  const jj = j + dj - left;
                  if (jj < 0 || jj >= w) continue;
                  for (let c = 0; c < cin; c++) s += (x.data[((b * h + ii) * w + jj) * cin + c] as number) * (kernel.data[((di * kw + dj) * cin + c) * cout + o] as number);
                }
              }
              data[((b * h + i) * w + j) * cout + o] = s;
            }
      return make([n, h, w, cout], data);
    },

    iterate: (n, state, body, until) => {
      let s = state;
      for (let i = 0; i < n; i++) {
        if (until !== undefined) {
          const done = until(s);
          if (isMask(done) && done.mask.every((m) => m === 1)) break;
        }
        s = body(make([], Float64Array.of(i)), s);
      }
      return s;
    },
  };
  return ops;
};

/** The float64 reference engine. */
export const float64Ops: Ops<Float64Value> = roundedOps('float64', (x) => x);

/** The float64 engine rounding each op's result to float32: a correctly rounded float32 engine. */
export const float32RoundedOps: Ops<Float64Value> = roundedOps('float32-rounded', Math.fround);
