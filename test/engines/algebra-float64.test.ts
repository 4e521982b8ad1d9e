/**
 * The float64 engine of the op algebra against the tfjs engine, op by op, on generated shapes and
 * inputs (one table of ops drives the test), plus closed forms that only a float64 engine computing the
 * stable forms gets right to double precision.
 *
 * Tolerances: both engines see the same float32 inputs, so they differ only by tfjs's float32 rounding.
 * - elementwise ops: |tfjs - f64| <= 1e-6 (1 + |f64|), 16 float32 ulps: an op is at most a few float32
 *   roundings (tfjs composes softplus, logSigmoid and asinh of up to 5 ops), each 6e-8 relative, and
 *   the normalisation by 1 + |f64| absorbs cancellation near 0 (tfjs's asinh of a tiny value);
 * - reductions, matmul, convolution of K terms of size <= B: K * B * 1e-7 more, the float32 error
 *   bound of a K-term sum (K * 6e-8 relative to the sum of |terms|), doubled for rounding of products.
 * A wrong op (a sign, a swapped axis, an off-by-one padding) differs by O(1) and fails at once.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromFloat64, paramsToFloat64, toFloat64 } from '../../src/algebra/float64-tfjs.js';
import { float32RoundedOps, float64Ops, float64Tensor, isFloat64Tensor, type Float64Tensor, type Float64Value } from '../../src/algebra/float64.js';
import type { Ops } from '../../src/algebra/ops.js';
import { tfjsOps } from '../../src/algebra/tfjs.js';

type Domain = 'real' | 'positive' | 'aboveMinusOne' | 'moderate';
const ranges: Record<Domain, readonly [number, number]> = {
  real: [-8, 8],
  positive: [1e-3, 8],
  aboveMinusOne: [-0.999, 8],
  // exp-like ops: keep exp(x) far from float32 overflow.
  moderate: [-20, 20],
};

/** The shapes one row takes, from a base shape: broadcast partners are the base with some axes set to 1 or dropped. */
type ShapePlan = (base: readonly number[], pick: readonly boolean[]) => ReadonlyArray<readonly number[]>;
const same = (k: number): ShapePlan => (base) => Array.from({ length: k }, () => base);
const broadcasting: ShapePlan = (base, pick) => [base, base.map((d, i) => (pick[i] === true ? 1 : d)).slice(pick[0] === true ? 1 : 0)];

interface Row {
  readonly op: string;
  readonly shapes: ShapePlan;
  readonly domain: Domain;
  /** Terms summed per output element (0 for elementwise), for the tolerance. */
  readonly terms: (shapes: ReadonlyArray<readonly number[]>) => number;
  /** The minimum rank of the base shape. */
  readonly rank?: number;
  readonly run: <T>(o: Ops<T>, xs: readonly T[]) => T | readonly T[];
}

const elementwise = (op: string, domain: Domain, run: <T>(o: Ops<T>, x: T) => T): Row => ({ op, shapes: same(1), domain, terms: () => 0, run: (o, [x]) => run(o, x as never) });
const binaryRow = (op: string, domain: Domain, run: <T>(o: Ops<T>, a: T, b: T) => T): Row => ({ op, shapes: broadcasting, domain, terms: () => 0, run: (o, [a, b]) => run(o, a as never, b as never) });
const lastOf = (s: readonly number[]): number => s[s.length - 1] ?? 1;

/** Every op of the algebra, as one table. */
const table: readonly Row[] = [
  binaryRow('add', 'real', (o, a, b) => o.add(a, b)),
  binaryRow('sub', 'real', (o, a, b) => o.sub(a, b)),
  binaryRow('mul', 'real', (o, a, b) => o.mul(a, b)),
  binaryRow('div', 'positive', (o, a, b) => o.div(a, b)),
  binaryRow('maximum', 'real', (o, a, b) => o.maximum(a, b)),
  binaryRow('minimum', 'real', (o, a, b) => o.minimum(a, b)),
  binaryRow('greaterEqual + where', 'real', (o, a, b) => o.where(o.greaterEqual(a, b), o.square(a), o.neg(b))),
  binaryRow('less + where', 'real', (o, a, b) => o.where(o.less(a, b), a, o.scalar(3))),
  elementwise('neg', 'real', (o, x) => o.neg(x)),
  elementwise('square', 'real', (o, x) => o.square(x)),
  elementwise('sqrt', 'positive', (o, x) => o.sqrt(x)),
  elementwise('abs', 'real', (o, x) => o.abs(x)),
  elementwise('exp', 'moderate', (o, x) => o.exp(x)),
  elementwise('log', 'positive', (o, x) => o.log(x)),
  elementwise('log1p', 'aboveMinusOne', (o, x) => o.log1p(x)),
  elementwise('expm1', 'moderate', (o, x) => o.expm1(x)),
  elementwise('softplus', 'moderate', (o, x) => o.softplus(x)),
  elementwise('logSigmoid', 'moderate', (o, x) => o.logSigmoid(x)),
  elementwise('sigmoid', 'moderate', (o, x) => o.sigmoid(x)),
  elementwise('tanh', 'real', (o, x) => o.tanh(x)),
  elementwise('atan', 'real', (o, x) => o.atan(x)),
  elementwise('sin', 'real', (o, x) => o.sin(x)),
  elementwise('cos', 'real', (o, x) => o.cos(x)),
  elementwise('sinh', 'real', (o, x) => o.sinh(x)),
  elementwise('cosh', 'real', (o, x) => o.cosh(x)),
  elementwise('asinh', 'moderate', (o, x) => o.asinh(x)),
  elementwise('relu', 'real', (o, x) => o.relu(x)),
  elementwise('clip', 'real', (o, x) => o.clip(x, -1.5, 2)),
  elementwise('scalar', 'real', (o, x) => o.mul(x, o.scalar(0.3))),
  { op: 'constant', shapes: () => [[2, 3]], domain: 'real', terms: () => 0, run: (o, [x]) => o.add(x as never, o.constant([1, 2, 3, 4, 5, 6], [2, 3])) },
  { op: 'sumEvent', shapes: same(1), domain: 'real', terms: ([s = []]) => s.slice(1).reduce((a, b) => a * b, 1), run: (o, [x]) => o.sumEvent(x as never) },
  { op: 'sumLast', shapes: same(1), domain: 'real', terms: ([s = []]) => lastOf(s), run: (o, [x]) => o.sumLast(x as never) },
  { op: 'softmaxLast', shapes: same(1), domain: 'real', terms: ([s = []]) => lastOf(s), run: (o, [x]) => o.softmaxLast(x as never) },
  { op: 'cumsumLast', shapes: same(1), domain: 'real', terms: ([s = []]) => lastOf(s), run: (o, [x]) => o.cumsumLast(x as never) },
  { op: 'sumAll', shapes: same(1), domain: 'real', terms: ([s = []]) => s.reduce((a, b) => a * b, 1), run: (o, [x]) => o.sumAll(x as never) },
  { op: 'perSample', shapes: same(1), domain: 'real', terms: () => 0, run: (o, [x]) => o.perSample(x as never, o.scalar(1.25)) },
  {
    op: 'splitLast',
    shapes: same(1),
    domain: 'real',
    terms: () => 0,
    run: <T>(o: Ops<T>, [x]: readonly T[]) => {
      // Sizes from the shape, as a spec would give them: a first piece, an empty one, the rest.
      const last = (o.engine === 'tfjs' ? (x as unknown as tf.Tensor).shape : (x as unknown as Float64Tensor).shape).at(-1) ?? 1;
      const first = Math.ceil(last / 2);
      return o.splitLast(x as T, [first, 0, last - first]).filter((_, i) => i !== 1);
    },
  },
  { op: 'concatLast', shapes: same(2), domain: 'real', terms: () => 0, run: (o, [a, b]) => o.concatLast([a as never, o.neg(b as never)]) },
  { op: 'sliceLast', shapes: same(1), domain: 'real', terms: () => 0, run: (o, [x]) => o.sliceLast(x as never, 0, 1) },
  { op: 'reshape', shapes: same(1), domain: 'real', rank: 2, terms: () => 0, run: <T>(o: Ops<T>, [x]: readonly T[]) => o.reshape(x as T, [-1]) },
  {
    op: 'transpose',
    domain: 'real',
    rank: 3,
    terms: () => 0,
    // The batch axis first, the others reversed.
    shapes: (base) => [base.slice(0, 3)],
    run: <T>(o: Ops<T>, [x]: readonly T[]) => o.transpose(x as T, [0, 2, 1]),
  },
  { op: 'gatherLast', shapes: same(1), domain: 'real', terms: () => 0, run: (o, [x]) => o.gatherLast(x as never, [0, 0]) },
  {
    op: 'matmul',
    shapes: (base) => [base, [lastOf(base), 3]],
    domain: 'real',
    terms: ([s = []]) => lastOf(s),
    run: (o, [a, b]) => o.matmul(a as never, b as never),
  },
  {
    op: 'conv2d',
    shapes: (base) => {
      const [n = 1, h = 1, w = 1, c = 1] = [...base, 1, 1, 1, 1];
      return [[n, h, w, c], [3, 3, c, 2], [2]];
    },
    domain: 'real',
    terms: ([s = []]) => 9 * lastOf(s) + 1,
    run: (o, [x, k, b]) => o.conv2d(x as never, k as never, b as never),
  },
  {
    op: 'iterate',
    shapes: same(1),
    domain: 'real',
    terms: () => 4,
    run: (o, [x]) => o.iterate(3, [x as never, o.scalar(0)], (i, [s, acc]) => [o.tanh(s as never), o.add(acc as never, o.mul(s as never, o.add(i, o.scalar(1))))]),
  },
];

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

const asList = <T>(r: T | readonly T[]): readonly T[] => (Array.isArray(r) ? (r as readonly T[]) : [r as T]);

/** The worst |tfjs - f64| / (1 + |f64|) over the outputs, after checking their shapes agree. */
const worstError = (got: readonly tf.Tensor[], want: readonly Float64Value[]): number => {
  expect(got.length).toBe(want.length);
  let worst = 0;
  got.forEach((g, k) => {
    const w = want[k];
    if (!isFloat64Tensor(w)) throw new Error('expected a tensor');
    expect(g.shape).toEqual(w.shape);
    const values = g.dataSync();
    w.data.forEach((v, i) => (worst = Math.max(worst, Math.abs((values[i] as number) - v) / (1 + Math.abs(v)))));
  });
  return worst;
};

const arbitraryBase = (minRank: number): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: 1, max: 4 }), { minLength: Math.max(1, minRank), maxLength: 4 });

describe('float64 engine vs tfjs engine, op by op', () => {
  let before = 0;
  beforeEach(() => (before = tf.memory().numTensors));
  afterEach(() => expect(tf.memory().numTensors).toBe(before));

  it.each(table.map((row) => [row.op, row] as const))('%s', (_name, row) => {
    const [low, high] = ranges[row.domain];
    fc.assert(
      fc.property(arbitraryBase(row.op === 'conv2d' ? 4 : row.rank ?? 1), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (base, pick, seed) => {
        const shapes = row.shapes(base, pick);
        let state = seed;
        // A small LCG: inputs reproducible from the seed fast-check reports.
        const next = (): number => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        const inputs = shapes.map((s) => float64Tensor(s, Array.from({ length: sizeOf(s) }, () => Math.fround(low + (high - low) * next()))));
        const want = asList(row.run(float64Ops, inputs));
        const worst = tf.tidy(() => worstError(asList(row.run(tfjsOps, inputs.map(fromFloat64))), want));
        const bound = row.terms(shapes) * Math.max(Math.abs(low), Math.abs(high)) ** (row.op === 'matmul' || row.op === 'conv2d' ? 2 : 1) * 1e-7;
        expect(worst).toBeLessThanOrEqual(1e-6 + bound);
      }),
      { numRuns: 15 },
    );
  });
});

describe('closed forms in float64', () => {
  const o = float64Ops;
  const one = (op: (x: Float64Value) => Float64Value, x: number): number => (op(o.scalar(x)) as Float64Tensor).data[0] as number;
  const relErr = (got: number, want: number): number => Math.abs(got - want) / Math.abs(want);
  // Double precision: a few units of 1.1e-16.
  const DOUBLE = 1e-15;

  it('log1p and expm1 keep tiny arguments: log1p(1e-10) = 1e-10 - 5e-21, expm1(1e-10) = 1e-10 + 5e-21', () => {
    expect(relErr(one(o.log1p, 1e-10), 1e-10 - 5e-21 + 1e-30 / 3)).toBeLessThan(DOUBLE);
    expect(relErr(one(o.expm1, 1e-10), 1e-10 + 5e-21 + 1e-30 / 6)).toBeLessThan(DOUBLE);
  });

  it('asinh(-1e8) = -(log(2e8) + 1/(4e16)) without cancellation, and asinh(1e-9) = 1e-9', () => {
    expect(relErr(one(o.asinh, -1e8), -(Math.log(2e8) + 1 / 4e16))).toBeLessThan(DOUBLE);
    expect(relErr(one(o.asinh, 1e-9), 1e-9 - 1e-27 / 6)).toBeLessThan(DOUBLE);
  });

  it('softplus, logSigmoid and sigmoid stay finite and exact at the tails', () => {
    // softplus(-50) = log1p(e^-50) = e^-50 (1 - e^-50 / 2 ...); softplus(800) = 800 (+ e^-800, below an ulp).
    expect(relErr(one(o.softplus, -50), Math.exp(-50))).toBeLessThan(DOUBLE);
    expect(one(o.softplus, 800)).toBe(800);
    expect(one(o.logSigmoid, -800)).toBe(-800);
    expect(relErr(one(o.sigmoid, -40), Math.exp(-40) / (1 + Math.exp(-40)))).toBeLessThan(DOUBLE);
  });

  it('softmax of large equal logits is uniform; cumsum of ones counts', () => {
    expect(Array.from((o.softmaxLast(o.constant([1000, 1000, 1000, 1000], [1, 4])) as Float64Tensor).data)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(Array.from((o.cumsumLast(o.constant([1, 1, 1, 1, 1], [1, 5])) as Float64Tensor).data)).toEqual([1, 2, 3, 4, 5]);
  });

  it("conv2d 'same' of a ones kernel on a ones image counts each pixel's in-image neighbours", () => {
    const h = 3;
    const w = 4;
    const out = o.conv2d(o.constant(new Array(h * w).fill(1), [1, h, w, 1]), o.constant(new Array(9).fill(1), [3, 3, 1, 1]), o.constant([0.5], [1])) as Float64Tensor;
    const inside = (n: number, i: number): number => Math.min(i + 1, n - 1) - Math.max(i - 1, 0) + 1;
    const expected = Array.from({ length: h * w }, (_, k) => inside(h, Math.floor(k / w)) * inside(w, k % w) + 0.5);
    expect(Array.from(out.data)).toEqual(expected);
  });

  it('the float32-rounded engine gives float32 numbers, and loses what float32 loses: 1 + 1e-8 - 1 = 0', () => {
    const r = float32RoundedOps;
    const x = r.sub(r.add(r.scalar(1), r.scalar(1e-8)), r.scalar(1)) as Float64Tensor;
    expect(x.data[0]).toBe(0);
    const y = r.exp(r.constant([0.1, 1.7], [2])) as Float64Tensor;
    expect(Array.from(y.data)).toEqual([Math.fround(Math.exp(Math.fround(0.1))), Math.fround(Math.exp(Math.fround(1.7)))]);
  });
});

describe('the tfjs engine keeps the stable forms on every backend', () => {
  afterEach(async () => {
    await tf.setBackend('cpu');
  });
  // wasm's tf.log1p is log(1 + a): log1p(1e-6) off by 4.6%, and by 1e-3 to 5e-5 at 1e-5 to 1e-3 (measured);
  // the engine computes log(u) - ((u - 1) - a)/u there. float32 precision: 1e-6 relative (16 ulps).
  it.each(['cpu', 'wasm'])('log1p of tiny arguments and its gradient to float32 precision on %s', async (backend) => {
    await tf.setBackend(backend);
    const values = [1e-9, 1e-6, -3e-5, 1e-3, -0.5, 3, 1e5];
    const x = tf.tensor1d(values);
    const y = tfjsOps.log1p(x);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tfjsOps.log1p(a)))(x);
    const [ys, gs] = [y.dataSync(), g.dataSync()];
    values.forEach((v, i) => {
      const a = Math.fround(v);
      expect(Math.abs(((ys[i] as number) - Math.log1p(a)) / Math.log1p(a))).toBeLessThan(1e-6);
      expect(Math.abs((gs[i] as number) * (1 + a) - 1)).toBeLessThan(1e-6);
    });
    tf.dispose([x, y, g]);
  });
});

describe('conversions', () => {
  it('tensor -> float64 -> tensor is exact, and parameter trees keep their structure', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 12 }), (values) => {
        const t = tf.tensor1d(values);
        const back = fromFloat64(toFloat64(t));
        expect(Array.from(back.dataSync())).toEqual(Array.from(t.dataSync()));
        const tree = paramsToFloat64([{ w: t, net: { b: t } }, {}]);
        expect(Array.isArray(tree)).toBe(true);
        const first = (tree as readonly Record<string, unknown>[])[0] as { w: Float64Tensor; net: { b: Float64Tensor } };
        expect(Array.from(first.net.b.data)).toEqual(Array.from(t.dataSync()));
        t.dispose();
        back.dispose();
      }),
      { numRuns: 20 },
    );
  });
});
