/**
 * The rows of the op-by-op tests of the ONNX engine of the algebra (test/engines/onnx-ops.test.ts, and the
 * ONNX checker's model of every op): each row a computation written once for every engine, the ops
 * it exercises, and the generated cases (shapes, values, constants) they run on.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import type { Ops } from '../../src/algebra/ops.js';
import { tfjsOps } from '../../src/algebra/tfjs.js';
import { encodeModel, Graph, graphOps } from '../../src/interpreters/onnx/index.js';

/** The generated inputs of one case, as an engine's values, and the constants its ops take. */
export interface Inputs<T> {
  /** Reals in [-8, 8], some of them tiny. */
  readonly a: T;
  readonly b: T;
  /** Positive, in [1e-3, 8]. */
  readonly p: T;
  /** In (-0.9, 0.9), many tiny (log1p's and expm1's cancellation-prone range). */
  readonly s: T;
}

export interface Case {
  readonly shape: readonly number[];
  readonly values: { readonly [K in keyof Inputs<unknown>]: Float32Array };
  /** Constants drawn from the case's seed: a [C, M] matrix, a kernel [k, k, C, M] and bias [M], indices, a split point. */
  readonly matrix: Float32Array;
  readonly m: number;
  readonly kernelSize: number;
  readonly kernel: Float32Array;
  readonly bias: Float32Array;
  readonly indices: readonly number[];
  readonly at: number;
  readonly c: number;
}

/** One row: the ops it exercises, and the computation, written once for both engines. */
export interface OpRow {
  readonly name: string;
  readonly covers: readonly (keyof Ops<unknown>)[];
  /** Runs only on image cases (a convolution). */
  readonly imageOnly?: boolean;
  /** Measured relative to the result itself (the stable forms near 0, whose point is relative precision there). */
  readonly relative?: boolean;
  readonly run: <T>(o: Ops<T>, v: Inputs<T>, k: Case) => T;
}

const select =
  (compare: 'greaterEqual' | 'less'): OpRow['run'] =>
  (o, v) =>
    o.where(o[compare](v.a, v.b), v.a, v.b);

/** A C x C weight, 2 I plus 0.3 times the case's matrix entries: invertible and well conditioned. */
const squareOf = (k: Case): number[] => Array.from({ length: k.c * k.c }, (_, i) => (i % (k.c + 1) === 0 ? 2 : 0) + 0.3 * (k.matrix[i % k.matrix.length] as number));

export const opRows: readonly OpRow[] = [
  { name: 'scalar', covers: ['scalar', 'add'], run: (o, v) => o.add(v.a, o.scalar(0.75)) },
  { name: 'constant', covers: ['constant'], run: (o, v, k) => o.mul(v.a, o.constant(k.bias.subarray(0, k.c), [k.c])) },
  { name: 'sub', covers: ['sub'], run: (o, v) => o.sub(v.a, v.b) },
  { name: 'mul', covers: ['mul'], run: (o, v) => o.mul(v.a, v.b) },
  { name: 'div', covers: ['div'], run: (o, v) => o.div(v.a, v.p) },
  { name: 'neg', covers: ['neg'], run: (o, v) => o.neg(v.a) },
  { name: 'square', covers: ['square'], run: (o, v) => o.square(v.a) },
  { name: 'sqrt', covers: ['sqrt'], run: (o, v) => o.sqrt(v.p) },
  { name: 'abs', covers: ['abs'], run: (o, v) => o.abs(v.a) },
  { name: 'maximum', covers: ['maximum'], run: (o, v) => o.maximum(v.a, v.b) },
  { name: 'minimum', covers: ['minimum'], run: (o, v) => o.minimum(v.a, v.b) },
  { name: 'exp', covers: ['exp'], run: (o, v) => o.exp(v.a) },
  { name: 'log', covers: ['log'], run: (o, v) => o.log(v.p) },
  { name: 'log1p', covers: ['log1p'], relative: true, run: (o, v) => o.log1p(v.s) },
  { name: 'expm1 near 0', covers: ['expm1'], relative: true, run: (o, v) => o.expm1(v.s) },
  { name: 'asinh near 0', covers: ['asinh'], relative: true, run: (o, v) => o.asinh(v.s) },
  { name: 'expm1', covers: ['expm1'], run: (o, v) => o.expm1(v.a) },
  { name: 'softplus', covers: ['softplus'], run: (o, v) => o.softplus(v.a) },
  { name: 'logSigmoid', covers: ['logSigmoid'], run: (o, v) => o.logSigmoid(v.a) },
  { name: 'sigmoid', covers: ['sigmoid'], run: (o, v) => o.sigmoid(v.a) },
  { name: 'tanh', covers: ['tanh'], run: (o, v) => o.tanh(v.a) },
  { name: 'atan', covers: ['atan'], run: (o, v) => o.atan(v.a) },
  { name: 'sin', covers: ['sin'], run: (o, v) => o.sin(v.a) },
  { name: 'cos', covers: ['cos'], run: (o, v) => o.cos(v.a) },
  { name: 'sinh', covers: ['sinh'], run: (o, v) => o.sinh(v.a) },
  { name: 'cosh', covers: ['cosh'], run: (o, v) => o.cosh(v.a) },
  { name: 'asinh', covers: ['asinh'], run: (o, v) => o.asinh(v.a) },
  { name: 'relu', covers: ['relu'], run: (o, v) => o.relu(v.a) },
  { name: 'clip', covers: ['clip'], run: (o, v) => o.clip(v.a, -1.5, 2) },
  { name: 'greaterEqual', covers: ['greaterEqual', 'where'], run: select('greaterEqual') },
  { name: 'less', covers: ['less', 'where'], run: select('less') },
  { name: 'where broadcasting', covers: ['where'], run: (o, v) => o.where(o.less(v.a, o.scalar(0)), o.scalar(-1), v.p) },
  { name: 'sumEvent', covers: ['sumEvent'], run: (o, v) => o.sumEvent(o.square(v.a)) },
  { name: 'sumLast', covers: ['sumLast'], run: (o, v) => o.sumLast(v.a) },
  { name: 'softmaxLast', covers: ['softmaxLast'], run: (o, v) => o.softmaxLast(v.a) },
  { name: 'cumsumLast', covers: ['cumsumLast'], run: (o, v) => o.cumsumLast(v.a) },
  { name: 'sumAll', covers: ['sumAll'], run: (o, _v, k) => o.sumAll(o.constant(k.matrix, [k.c, k.m])) },
  { name: 'perSample', covers: ['perSample'], run: (o, v, k) => o.perSample(v.a, o.sumAll(o.constant(k.bias.subarray(0, k.m), [k.m]))) },
  {
    name: 'splitLast and concatLast (with an empty piece)',
    covers: ['splitLast', 'concatLast'],
    run: (o, v, k) => {
      const [x1, none, x2] = o.splitLast(v.a, [k.at, 0, k.c - k.at]) as [T0<typeof o>, T0<typeof o>, T0<typeof o>];
      return o.concatLast([x2, none, o.neg(x1)]);
    },
  },
  { name: 'sliceLast', covers: ['sliceLast'], run: (o, v, k) => o.sliceLast(v.a, k.at === k.c ? 0 : k.at, k.at === k.c ? k.c : k.c - k.at) },
  { name: 'reshape', covers: ['reshape'], run: (o, v, k) => o.reshape(v.a, [k.shape.slice(1).reduce((x, y) => x * y, 1)]) },
  { name: 'transpose', covers: ['transpose'], run: (o, v, k) => o.transpose(v.a, [0, ...k.shape.slice(1).map((_, i) => k.shape.length - 1 - i)]) },
  { name: 'gatherLast', covers: ['gatherLast'], run: (o, v, k) => o.gatherLast(v.a, k.indices) },
  { name: 'matmul', covers: ['matmul'], run: (o, v, k) => o.matmul(v.a, o.constant(k.matrix, [k.c, k.m])) },
  // A square, well-conditioned weight: 2 I plus the case's entries scaled by 0.3.
  { name: 'mixChannels', covers: ['mixChannels'], run: (o, v, k) => o.mixChannels(v.a, o.constant(squareOf(k), [k.c, k.c])) },
  { name: 'logAbsDet (a weight)', covers: ['logAbsDet'], run: (o, v, k) => o.add(v.a, o.logAbsDet(o.constant(squareOf(k), [k.c, k.c]))) },
  { name: 'inverseMatrix (a weight)', covers: ['inverseMatrix'], run: (o, v, k) => o.mixChannels(v.a, o.inverseMatrix(o.constant(squareOf(k), [k.c, k.c]))) },
  { name: 'elu', covers: ['elu'], run: (o, v) => o.elu(v.a) },
  { name: 'zerosLike', covers: ['zerosLike'], run: (o, v) => o.add(o.zerosLike(v.a), v.b) },
  { name: 'padLast', covers: ['padLast'], run: (o, v, k) => o.padLast(v.a, k.at, k.c - k.at, -0.25) },
  {
    name: 'conv2dRelu',
    covers: ['conv2dRelu'],
    imageOnly: true,
    run: (o, v, k) => o.conv2dRelu(v.a, o.constant(k.kernel, [k.kernelSize, k.kernelSize, k.c, k.m]), o.constant(k.bias.subarray(0, k.m), [k.m])),
  },
  {
    name: 'a net of convolutions: conv2d, relu, conv2d, and a residual',
    covers: ['conv2d', 'relu'],
    imageOnly: true,
    run: (o, v, k) => {
      const h = o.relu(o.conv2d(v.a, o.constant(k.kernel, [k.kernelSize, k.kernelSize, k.c, k.m]), o.constant(k.bias.subarray(0, k.m), [k.m])));
      const second = o.conv2d(h, o.constant(k.matrix.subarray(0, k.m), [1, 1, k.m, 1]), o.constant([0.5], [1]));
      return o.add(second, o.sliceLast(h, 0, 1));
    },
  },
  {
    name: 'conv2d',
    covers: ['conv2d'],
    imageOnly: true,
    run: (o, v, k) => o.conv2d(v.a, o.constant(k.kernel, [k.kernelSize, k.kernelSize, k.c, k.m]), o.constant(k.bias.subarray(0, k.m), [k.m])),
  },
  {
    name: 'iterate',
    covers: ['iterate'],
    run: (o, v) => o.iterate(4, [v.a, v.b], (i, [x, y]) => [o.add(o.mul(x as T0<typeof o>, o.scalar(0.5)), y as T0<typeof o>), o.sub(y as T0<typeof o>, i)])[0] as T0<typeof o>,
  },
];

/** The value type of an engine. */
type T0<O> = O extends Ops<infer T> ? T : never;

/** Small deterministic stream for a case's constants (the case's shrinkable parts are its values). */
const uniform = (seed: number): (() => number) => {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
};

export const f32 = (lo: number, hi: number): fc.Arbitrary<number> => fc.double({ min: lo, max: hi, noNaN: true }).map(Math.fround);
const wide = fc.oneof(f32(-8, 8), f32(-1e-6, 1e-6));
const positive = f32(1e-3, 8);
const nearZero = fc.oneof(f32(-0.9, 0.9), f32(-1e-5, 1e-5));

const shapeArb: fc.Arbitrary<readonly number[]> = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 })),
  fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
);

/** A case on a shape drawn from `shapes`. */
export const caseArb = (shapes: fc.Arbitrary<readonly number[]> = shapeArb): fc.Arbitrary<Case> =>
  shapes.chain((shape) => {
    const size = shape.reduce((x, y) => x * y, 1);
    const values = (arb: fc.Arbitrary<number>): fc.Arbitrary<Float32Array> => fc.array(arb, { minLength: size, maxLength: size }).map((xs) => Float32Array.from(xs));
    return fc.record({ a: values(wide), b: values(wide), p: values(positive), s: values(nearZero) }).chain((vals) =>
      fc.tuple(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.constantFrom(1, 2, 3)).map(([seed, kernelSize]): Case => {
        const next = uniform(seed);
        const c = shape[shape.length - 1] as number;
        const m = 1 + Math.floor(next() * 4);
        const draw = (n: number): Float32Array => Float32Array.from({ length: n }, () => 2 * next() - 1);
        return {
          shape,
          values: vals,
          matrix: draw(c * m),
          m,
          kernelSize,
          kernel: draw(kernelSize * kernelSize * c * m),
          bias: draw(Math.max(m, c)),
          indices: Array.from({ length: 1 + Math.floor(next() * (c + 1)) }, () => Math.floor(next() * c)),
          at: Math.floor(next() * (c + 1)),
          c,
        };
      }),
    );
  });

/** The tfjs engine's results of the rows on a case, tidied. */
export const tfjsResults = (k: Case, rows: readonly OpRow[]): Array<{ data: Float32Array; shape: readonly number[] }> =>
  tf.tidy(() => {
    const v = Object.fromEntries(Object.entries(k.values).map(([name, x]) => [name, tf.tensor(x, [...k.shape])])) as unknown as Inputs<tf.Tensor>;
    return rows.map((r) => {
      const t = r.run(tfjsOps, v, k);
      return { data: Float32Array.from(t.dataSync()), shape: t.shape };
    });
  });

/** The rows that apply to a case (the convolution on images only). */
export const rowsFor = (k: Case): OpRow[] => opRows.filter((r) => r.imageOnly !== true || k.shape.length === 4);

/** One ONNX model computing every row of a case: inputs a, b, p, s, outputs out0, out1, ... shaped as `shapes`. */
export const opsModel = (k: Case, rows: readonly OpRow[], shapes: readonly (readonly number[])[]): Uint8Array => {
  const g = new Graph('ops');
  const o = graphOps(g, { path: '$', pass: 'a probe', maxUnroll: 8 });
  const v = Object.fromEntries(Object.keys(k.values).map((name) => [name, g.input(name, k.shape)])) as unknown as Inputs<string>;
  rows.forEach((r, i) => g.output(`out${i}`, r.run(o, v, k), shapes[i] as readonly number[]));
  return encodeModel(g.data());
};
