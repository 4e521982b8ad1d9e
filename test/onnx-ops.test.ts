/**
 * The ONNX engine of the op algebra (src/interpreters/onnx/graph-ops.ts) against the tfjs engine
 * (src/algebra/tfjs.ts), op by op: on generated shapes (vectors [N, C] and images [N, H, W, C]) and
 * values (wide, tiny, positive, near -1..1), every op of `Ops` is run by both engines, the ONNX graph
 * holding all of them as outputs and run once per case on onnxruntime-node.
 *
 * Then the generic lowering (src/interpreters/onnx/primitive.ts) on a layer whose maths uses what
 * exp and logit (today's kinds on the algebra) do not: parameters, a parameter group, conditioning
 * and `iterate`, in both directions, against the same maths on tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { tfjsOps } from '../src/algebra/tfjs.js';
import { branch, param, type AlgebraBijector, type Context, type Ops, type ValueTree } from '../src/algebra/ops.js';
import type { Signature } from '../src/dsl/definition.js';
import type { Shape } from '../src/dsl/shape.js';
import { disposeParams } from '../src/interpreters/index.js';
import { definitionOf, type PrimitiveSpec } from '../src/dsl/registry.js';
import type { ParamRecord } from '../src/dsl/params.js';
import { Graph, encodeModel, graphOps, lowerPrimitive, OnnxExportError, total } from '../src/interpreters/onnx/index.js';
import * as E from 'fp-ts/lib/Either.js';
import { onnxSession, type FloatArray } from '../src/node/onnx-runtime.js';

/** The generated inputs of one case, as an engine's values, and the constants its ops take. */
interface Inputs<T> {
  /** Reals in [-8, 8], some of them tiny. */
  readonly a: T;
  readonly b: T;
  /** Positive, in [1e-3, 8]. */
  readonly p: T;
  /** In (-0.9, 0.9), many tiny (log1p's and expm1's cancellation-prone range). */
  readonly s: T;
}

interface Case {
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
interface OpRow {
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

const rows: readonly OpRow[] = [
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
  {
    name: 'conv2d',
    covers: ['conv2d'],
    imageOnly: true,
    run: (o, v, k) => o.conv2d(v.a, o.constant(k.kernel, [k.kernelSize, k.kernelSize, k.c, k.m]), o.constant(k.bias.subarray(0, k.m), [k.m])),
  },
  {
    name: 'iterate',
    covers: ['iterate'],
    run: (o, v) => o.iterate(4, [v.a, v.b], (i, [x, y]) => [o.add(o.mul(x as T0<typeof o>, o.scalar(0.5)), y as T0<typeof o>), o.sub(y as T0<typeof o>, o.scalar(i))])[0] as T0<typeof o>,
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

const f32 = (lo: number, hi: number): fc.Arbitrary<number> => fc.double({ min: lo, max: hi, noNaN: true }).map(Math.fround);
const wide = fc.oneof(f32(-8, 8), f32(-1e-6, 1e-6));
const positive = f32(1e-3, 8);
const nearZero = fc.oneof(f32(-0.9, 0.9), f32(-1e-5, 1e-5));

const shapeArb: fc.Arbitrary<readonly number[]> = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 })),
  fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
);

const caseArb: fc.Arbitrary<Case> = shapeArb.chain((shape) => {
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

const worst: Record<string, number> = {};
afterAll(() => console.log(`worst ONNX-vs-tfjs op errors (|d|/(1+|tfjs|); |d|/|tfjs| for the rows near 0): ${JSON.stringify(worst)}`));

/**
 * Bound on |onnx - tfjs| / (1 + |tfjs|) per element. Each op is one to a few float32 roundings in
 * each engine (unit roundoff 6e-8), other libm implementations of exp/log/atan/sinh (a few ulps), the
 * exact rewrites of log1p and expm1 (a few ulps), and sums of at most 48 terms in another order
 * (convolutions, matmuls, sumEvent of squares up to 64): a few 1e-7 relative to the result's scale.
 * 1e-5 leaves a margin of 10x over that, while a wrong formula, axis or broadcast gives 1e-3 or more.
 */
const TOL = 1e-5;

/**
 * Bound on |onnx - tfjs| / |tfjs| for the rows measured relatively: log1p and expm1 near 0 keep the
 * digits of tiny arguments (exact rewrites, a few ulps: 2e-7); the naive log(1 + s) or exp(s) - 1
 * loses all of them (relative errors of 1e-2 to 1 at |s| ~ 1e-6).
 */
const RELATIVE_TOL = 1e-6;

const errorOf = (got: FloatArray | undefined, want: { data: Float32Array; shape: readonly number[] }, relative: boolean): number => {
  if (got === undefined) return Infinity;
  expect(got.dims).toEqual(want.shape);
  let e = 0;
  for (let i = 0; i < want.data.length; i++) {
    const w = want.data[i] as number;
    const diff = Math.abs((got.data[i] as number) - w);
    const d = relative ? (diff === 0 ? 0 : diff / Math.abs(w)) : diff / (1 + Math.abs(w));
    e = Number.isNaN(d) ? Infinity : Math.max(e, d);
  }
  return e;
};

describe('the ONNX engine of the op algebra', () => {
  it('covers every op of the algebra', () => {
    const ops = Object.keys(tfjsOps).filter((k) => k !== 'engine' && k !== 'isValue');
    const covered = new Set(rows.flatMap((r) => r.covers));
    expect(ops.filter((op) => !covered.has(op as keyof Ops<unknown>))).toEqual([]);
  });

  it('agrees with the tfjs engine op by op', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const used = rows.filter((r) => r.imageOnly !== true || k.shape.length === 4);
        const before = tf.memory().numTensors;
        const want = tf.tidy(() => {
          const v = Object.fromEntries(Object.entries(k.values).map(([name, x]) => [name, tf.tensor(x, [...k.shape])])) as unknown as Inputs<tf.Tensor>;
          return used.map((r) => {
            const t = r.run(tfjsOps, v, k);
            return { data: Float32Array.from(t.dataSync()), shape: t.shape };
          });
        });
        expect(tf.memory().numTensors).toBe(before);

        const g = new Graph('ops');
        const o = graphOps(g, { path: '$', pass: 'a probe', maxUnroll: 8 });
        const v = Object.fromEntries(Object.keys(k.values).map((name) => [name, g.input(name, k.shape)])) as unknown as Inputs<string>;
        used.forEach((r, i) => g.output(`out${i}`, r.run(o, v, k), (want[i] as { shape: readonly number[] }).shape));
        const session = await onnxSession(encodeModel(g.data()), { intraOpThreads: 1 });
        try {
          const got = await session.run(Object.fromEntries(Object.entries(k.values).map(([name, x]) => [name, { data: x, dims: k.shape }])));
          used.forEach((r, i) => {
            const e = errorOf(got[`out${i}`], want[i] as { data: Float32Array; shape: readonly number[] }, r.relative === true);
            worst[r.name] = Math.max(worst[r.name] ?? 0, e);
            expect(e, `${r.name} on ${JSON.stringify(k.shape)}`).toBeLessThan(r.relative === true ? RELATIVE_TOL : TOL);
          });
        } finally {
          await session.release();
        }
      }),
      { numRuns: 30 },
    );
  });
});

/** The first value of a list (the probe's single tensor). */
const first = <T>(xs: readonly T[]): T => {
  const v = xs[0];
  if (v === undefined) throw new TypeError('expected one value');
  return v;
};

/** t = shift + k W. */
const probeShift = <T>(o: Ops<T>, params: ValueTree<T>, ctx: Context<T>): T => {
  const k = ctx['k'];
  if (k === undefined) throw new TypeError('expected the conditioning input k');
  return o.add(param(o, params, 'shift'), o.matmul(k, param(o, branch(o, params, 'mix'), 'kernel')));
};

/**
 * A probe layer on the algebra: three steps of x -> x exp(s) + t with t = shift + k W (k the
 * conditioning input), log|det| = 3 sum(s) per sample; its inverse undoes them.
 */
const probe: AlgebraBijector<PrimitiveSpec> = {
  forward: (o, _spec, params, xs, ctx) => {
    const s = param(o, params, 'logScale');
    const t = probeShift(o, params, ctx);
    const y = first(o.iterate(3, xs, (_i, state) => [o.add(o.mul(first(state), o.exp(s)), t)]));
    return { outs: [y], logDet: o.perSample(first(xs), o.mul(o.sumAll(s), o.scalar(3))) };
  },
  inverse: (o, _spec, params, ys, ctx) => {
    const s = param(o, params, 'logScale');
    const t = probeShift(o, params, ctx);
    const x = first(o.iterate(3, ys, (_i, state) => [o.mul(o.sub(first(state), t), o.exp(o.neg(s)))]));
    return { outs: [x], logDet: o.perSample(first(ys), o.mul(o.sumAll(s), o.scalar(-3))) };
  },
};

describe('the generic lowering', () => {
  const spec: PrimitiveSpec = { kind: 'actnorm', shape: [3] };
  /** The probe's maths in place of actnorm's, with a conditioning input k [2]. */
  const sources = {
    overrides: {},
    keptForSpeed: {},
    definitionOf: (s: PrimitiveSpec) => ({
      algebra: probe,
      signature: (sp: PrimitiveSpec, path: string) => E.map((sig: Signature) => ({ ...sig, cond: { k: [2] as Shape } }))(definitionOf(s).signature(sp, path)),
    }),
  };
  const paramsOf = (values: readonly number[]): ParamRecord => ({
    shift: tf.tensor1d(values.slice(0, 3)),
    logScale: tf.tensor1d(values.slice(3, 6)),
    mix: { kernel: tf.tensor2d(values.slice(6, 12), [2, 3]) },
    unused: tf.tensor1d([1, 2]),
  });

  /**
   * Bound on |onnx - tfjs| / (1 + |tfjs|): three steps of a multiply-add with exp(s) <= e^0.5 and a
   * [2] x [2, 3] matmul, each a few float32 roundings (6e-8) in either engine: ~1e-6 at most.
   */
  const GENERIC_TOL = 1e-5;

  it('runs the maths on the algebra with parameters, a parameter group, conditioning and iterate, both directions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(f32(-0.5, 0.5), { minLength: 12, maxLength: 12 }),
        fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(fc.constant(n), fc.array(f32(-3, 3), { minLength: 5 * n, maxLength: 5 * n }))),
        async (values, [n, data]) => {
          const params = paramsOf(values);
          const x = Float32Array.from(data.slice(0, 3 * n));
          const k = Float32Array.from(data.slice(3 * n));
          try {
            for (const dir of ['forward', 'inverse'] as const) {
              const want = tf.tidy(() => {
                const maths = dir === 'forward' ? probe.forward : probe.inverse;
                const r = maths(tfjsOps, spec, params, [tf.tensor2d(x, [n, 3])], { k: tf.tensor2d(k, [n, 2]) });
                return { out: Float32Array.from(first(r.outs).dataSync()), logDet: Float32Array.from(r.logDet.dataSync()) };
              });
              const g = new Graph('generic');
              const ins = [g.input('x', ['N', 3])];
              const ctx = { k: g.input('k', ['N', 2]) };
              const lowered = lowerPrimitive({ g, ctx, options: { maxUnroll: 8 } }, sources)(spec, { path: '$.steps[2]', paramPath: '2', dir, params, ins });
              g.output('y', first(lowered.outs ?? []), ['N', 3]);
              g.output('logdet', total(g, lowered.result, first(ins)), ['N']);
              // Initializers named by their parameter path, only for the parameters the maths reads.
              const names = g.data().initializers.map((i) => i.name).filter((name) => name.startsWith('2.'));
              expect(names.sort()).toEqual(['2.logScale', '2.mix.kernel', '2.shift']);
              const session = await onnxSession(encodeModel(g.data()), { intraOpThreads: 1 });
              try {
                const got = await session.run({ x: { data: x, dims: [n, 3] }, k: { data: k, dims: [n, 2] } });
                expect(errorOf(got['y'], { data: want.out, shape: [n, 3] }, false), `${dir} outputs`).toBeLessThan(GENERIC_TOL);
                expect(errorOf(got['logdet'], { data: want.logDet, shape: [n] }, false), `${dir} log-det`).toBeLessThan(GENERIC_TOL);
              } finally {
                await session.release();
              }
            }
          } finally {
            disposeParams(params);
          }
        },
      ),
      { numRuns: 8 },
    );
  });

  it('refuses a missing parameter, naming the spec path', () => {
    const params = paramsOf(Array.from({ length: 12 }, () => 0.1));
    const g = new Graph('generic');
    const lower = lowerPrimitive({ g, ctx: { k: g.input('k', ['N', 2]) }, options: { maxUnroll: 8 } }, sources);
    const { logScale: _dropped, ...rest } = params;
    const node = { path: '$.steps[2]', paramPath: '2', dir: 'forward' as const, params: rest, ins: [g.input('x', ['N', 3])] };
    expect(() => lower(spec, node)).toThrow(OnnxExportError);
    expect(() => lower(spec, node)).toThrow(/^\$\.steps\[2\]: expected a parameter 'logScale' \(parameters at '2'\)/);
    disposeParams(params);
  });
});
