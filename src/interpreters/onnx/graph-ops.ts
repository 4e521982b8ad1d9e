/**
 * The ONNX engine of the op algebra (src/algebra/ops.ts): a value is the name of a graph value and
 * each op appends its nodes (opset 17) to a Graph. log1p and expm1, which ONNX lacks, keep their
 * stable forms through the exact rewrites of ./ops.ts; `iterate` is unrolled, and refused above
 * `maxUnroll` steps with an OnnxExportError naming the layer's spec path.
 */
import type { Ops } from '../../algebra/ops.js';
import { OnnxExportError } from './errors.js';
import type { Graph } from './graph.js';
import { DEFAULT_MAX_UNROLL } from './lowering.js';
import { invert, slogdet } from '../../dsl/maths/linalg.js';
import { batchZeros, expm1, log1p, zerosLike } from './ops.js';

export interface GraphOpsOptions {
  /** The spec path of the layer being lowered, for refusals. */
  readonly path: string;
  /** What a sequential pass of this layer is, for the refusal: "the sequential inverse of a maskedAutoregressive layer". */
  readonly pass: string;
  /** Most steps of `iterate` that are unrolled. */
  readonly maxUnroll: number;
}

/** The message refusing to unroll `n` steps above `maxUnroll`. */
export const unrollRefusal = (path: string, pass: string, n: number, maxUnroll: number): OnnxExportError =>
  new OnnxExportError(path, `${pass} would unroll ${n} passes, above the limit of ${maxUnroll} (raise maxUnroll, or export the other direction)`);

/** Outside a layer (a distribution's or CAFLOW's own terms): the graph's root and the default limit. */
const outsideLayers: GraphOpsOptions = { path: '$', pass: 'a sequential pass', maxUnroll: DEFAULT_MAX_UNROLL };

/** The op algebra appending nodes to `g`. */
export const graphOps = (g: Graph, options: GraphOpsOptions = outsideLayers): Ops<string> => {
  // Pieces of size 0 (splitLast / sliceLast): ONNX values, but left out of concatenations.
  const empty = new Set<string>();
  const unary = (op: string) => (a: string) => g.op(op, [a]);
  const binary = (op: string) => (a: string, b: string) => g.op(op, [a, b]);
  const emptyPiece = (a: string): string => {
    const piece = g.op('Slice', [a, g.ints([0]), g.ints([0]), g.ints([-1])]);
    empty.add(piece);
    return piece;
  };
  // The channels-first (NCHW) form of channels-last values made by a convolution: a convolution (or a
  // relu) of such a value reuses it, so a net of convolutions transposes once in and once out.
  const channelsFirst = new Map<string, string>();
  const channelsLast = (nchw: string): string => {
    const nhwc = g.op('Transpose', [nchw], { perm: [0, 2, 3, 1] });
    channelsFirst.set(nhwc, nchw);
    return nhwc;
  };
  const conv2d = (x: string, kernel: string, bias: string): string => {
    // ONNX's Conv is channels-first with OIHW kernels: NHWC -> NCHW, HWIO -> OIHW (a constant, folded
    // by the runtime), and back (unused copies are dropped from the model). SAME_UPPER pads as tfjs's
    // 'same' does (the odd pixel at the end).
    const nchw = channelsFirst.get(x) ?? g.op('Transpose', [x], { perm: [0, 3, 1, 2] });
    const oihw = g.op('Transpose', [kernel], { perm: [3, 2, 0, 1] });
    return channelsLast(g.op('Conv', [nchw, oihw, bias], { auto_pad: { string: 'SAME_UPPER' }, strides: [1, 1], dilations: [1, 1] }));
  };
  const relu = (a: string): string => {
    const nchw = channelsFirst.get(a);
    return nchw === undefined ? g.op('Relu', [a]) : channelsLast(g.op('Relu', [nchw]));
  };
  /**
   * A square matrix's values, for the matrix ops ONNX lacks (a matrix inverse) or computes in float32
   * only (Det): folded at export in float64, as the tfjs engine computes them, which needs the matrix
   * to be a weight of the graph rather than a value computed in it.
   */
  const matrixOf = (w: string, op: string): { data: Float32Array; n: number } => {
    const values = g.floatsOf(w);
    const n = values?.dims[0] ?? 0;
    if (values === undefined || values.dims.length !== 2 || values.dims[1] !== n) {
      throw new OnnxExportError(options.path, `${op} of a matrix computed inside the graph has no ONNX form here (only of a square weight, folded at export)`);
    }
    return { data: values.data, n };
  };
  const softplus = unary('Softplus');
  const neg = unary('Neg');
  return {
    engine: 'onnx',
    isValue: (v): v is string => typeof v === 'string',

    scalar: (c) => g.scalar(c),
    constant: (values, shape) => g.floats('const', Float32Array.from(values), shape),

    add: binary('Add'),
    sub: binary('Sub'),
    mul: binary('Mul'),
    div: binary('Div'),
    neg,
    square: (a) => g.op('Mul', [a, a]),
    sqrt: unary('Sqrt'),
    abs: unary('Abs'),
    maximum: binary('Max'),
    minimum: binary('Min'),

    exp: unary('Exp'),
    log: unary('Log'),
    log1p: (a) => log1p(g, a),
    expm1: (a) => expm1(g, a),
    softplus,
    logSigmoid: (a) => neg(softplus(neg(a))),
    sigmoid: unary('Sigmoid'),
    tanh: unary('Tanh'),
    atan: unary('Atan'),
    sinh: unary('Sinh'),
    cosh: unary('Cosh'),
    // The tfjs engine's form: asinh is odd, and log1p(|a| + a^2 / (1 + sqrt(a^2 + 1))) keeps a tiny a's
    // digits; above 1e18 (a^2 overflows float32) it is log(2|a|).
    asinh: (a) => {
      const m = g.op('Abs', [a]);
      const big = g.op('GreaterOrEqual', [m, g.scalar(1e18)]);
      const safe = g.op('Where', [big, g.scalar(0), m]);
      const square = g.op('Mul', [safe, safe]);
      const r = g.op('Sqrt', [g.op('Add', [square, g.scalar(1)])]);
      const small = log1p(g, g.op('Add', [safe, g.op('Div', [square, g.op('Add', [r, g.scalar(1)])])]));
      const large = g.op('Add', [g.op('Log', [g.op('Where', [big, m, g.scalar(1)])]), g.scalar(Math.LN2)]);
      return g.op('Mul', [g.op('Sign', [a]), g.op('Where', [big, large, small])]);
    },
    sin: unary('Sin'),
    cos: unary('Cos'),
    relu,
    elu: (a) => g.op('Elu', [a], { alpha: { float: 1 } }),
    clip: (a, low, high) => g.op('Clip', [a, g.scalar(low), g.scalar(high)]),

    greaterEqual: binary('GreaterOrEqual'),
    less: binary('Less'),
    where: (cond, a, b) => g.op('Where', [cond, a, b]),

    sumEvent: (a) => g.op('ReduceSum', [g.op('Flatten', [a], { axis: 1 }), g.ints([1])], { keepdims: 0 }),
    sumLast: (a) => g.op('ReduceSum', [a, g.ints([-1])], { keepdims: 0 }),
    softmaxLast: (a) => g.op('Softmax', [a], { axis: -1 }),
    cumsumLast: (a) => g.op('CumSum', [a, g.intScalar(-1)]),
    // ReduceSum without axes reduces every axis.
    sumAll: (a) => g.op('ReduceSum', [a], { keepdims: 0 }),

    zerosLike: (like) => zerosLike(g, like),
    perSample: (like, value) => g.op('Add', [batchZeros(g, like), value]),

    splitLast: (a, sizes) => {
      const used = sizes.filter((s) => s > 0);
      const pieces = used.length === 1 ? [a] : g.nodeN('Split', [a, g.ints(used)], used.length, { axis: -1 });
      let i = 0;
      return sizes.map((s) => (s > 0 ? (pieces[i++] as string) : emptyPiece(a)));
    },
    concatLast: (parts) => {
      const used = parts.filter((p) => !empty.has(p));
      if (used.length === 0) return parts[0] as string;
      return used.length === 1 ? (used[0] as string) : g.op('Concat', used, { axis: -1 });
    },
    sliceLast: (a, begin, size) => (size === 0 ? emptyPiece(a) : g.op('Slice', [a, g.ints([begin]), g.ints([begin + size]), g.ints([-1])])),
    reshape: (a, dims) => g.op('Reshape', [a, g.ints([-1, ...dims])]),
    transpose: (a, perm) => g.op('Transpose', [a], { perm }),
    padLast: (a, before, after, value) => {
      // Opset 17's Pad needs the rank; slabs of the value shaped [...a's leading dims, n] need only a's shape.
      const leading = g.op('Slice', [g.op('Shape', [a]), g.ints([0]), g.ints([-1])]);
      const slab = (n: number): string =>
        g.op('ConstantOfShape', [g.op('Concat', [leading, g.ints([n])], { axis: 0 })], { value: { tensor: { name: 'pad', type: 1, dims: [1], data: Float32Array.of(value) } } });
      const parts = [...(before > 0 ? [slab(before)] : []), a, ...(after > 0 ? [slab(after)] : [])];
      return parts.length === 1 ? a : g.op('Concat', parts, { axis: -1 });
    },
    gatherLast: (a, indices) => g.op('Gather', [a, g.ints(indices)], { axis: -1 }),

    matmul: binary('MatMul'),
    mixChannels: (x, w) => g.op('MatMul', [x, g.op('Transpose', [w], { perm: [1, 0] })]),
    logAbsDet: (w) => {
      const { data, n } = matrixOf(w, 'log|det|');
      return g.scalar(slogdet(data, n).logAbsDet);
    },
    inverseMatrix: (w) => {
      const { data, n } = matrixOf(w, 'the inverse');
      return g.floats(`${w}.inverse`, Float32Array.from(invert(data, n)), [n, n]);
    },
    conv2d,
    conv2dRelu: (x, kernel, bias) => relu(conv2d(x, kernel, bias)),

    iterate: (n, state, body, until) => {
      if (n > options.maxUnroll) throw unrollRefusal(options.path, options.pass, n, options.maxUnroll);
      // A loop that may end early (an adaptive ODE solver) would unroll to its worst case, a graph that
      // takes ONNX Runtime minutes to load: refused, naming the layer.
      if (until !== undefined) throw new OnnxExportError(options.path, `${options.pass} is an adaptive loop (up to ${n} steps), which this exporter does not unroll; use a fixed-step solver (e.g. { kind: 'rk4', steps: 16 }) for the exported flow`);
      let s = state;
      // All n steps: once `until` holds the body leaves the state unchanged, so the result is the same.
      for (let i = 0; i < n; i++) s = body(g.scalar(i), s);
      return s;
    },
  };
};
