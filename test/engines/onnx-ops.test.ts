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
import * as E from 'fp-ts/lib/Either.js';
import { branch, param, type AlgebraBijector, type Context, type Ops, type ValueTree } from '../../src/algebra/ops.js';
import { tfjsOps } from '../../src/algebra/tfjs.js';
import type { Signature } from '../../src/dsl/definition.js';
import type { ParamRecord } from '../../src/dsl/params.js';
import { definitionOf, type PrimitiveSpec } from '../../src/dsl/registry.js';
import type { Shape } from '../../src/dsl/shape.js';
import { disposeParams } from '../../src/interpreters/index.js';
import { encodeModel, Graph, graphOps, lowerPrimitive, OnnxExportError, total } from '../../src/interpreters/onnx/index.js';
import { onnxSession, type FloatArray } from '../../src/node/onnx-runtime.js';
import { caseArb, f32, opRows, opsModel, rowsFor, tfjsResults } from '../support/onnx-op-rows.js';

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
    const covered = new Set(opRows.flatMap((r) => r.covers));
    expect(ops.filter((op) => !covered.has(op as keyof Ops<unknown>))).toEqual([]);
  });

  it('a net of convolutions transposes its activations once in and once out', () => {
    const g = new Graph('net');
    const o = graphOps(g);
    const kernel = (cin: number, cout: number): string => o.constant(new Float32Array(9 * cin * cout).fill(0.1), [3, 3, cin, cout]);
    const bias = (c: number): string => o.constant(new Float32Array(c), [c]);
    const h = o.relu(o.conv2d(g.input('x', ['N', 4, 4, 2]), kernel(2, 3), bias(3)));
    g.output('y', o.conv2d(o.relu(o.conv2d(h, kernel(3, 3), bias(3))), kernel(3, 1), bias(1)), ['N', 4, 4, 1]);
    const data = g.data();
    const weights = new Set(data.initializers.map((i) => i.name));
    const activationTransposes = data.nodes.filter((n) => n.op === 'Transpose' && !weights.has(n.inputs[0] as string));
    expect(activationTransposes.map((n) => n.attributes['perm'])).toEqual([
      { kind: 'ints', value: [0, 3, 1, 2] },
      { kind: 'ints', value: [0, 2, 3, 1] },
    ]);
  });

  it('agrees with the tfjs engine op by op', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb(), async (k) => {
        const used = rowsFor(k);
        const before = tf.memory().numTensors;
        const want = tfjsResults(k, used);
        expect(tf.memory().numTensors).toBe(before);
        const session = await onnxSession(opsModel(k, used, want.map((w) => w.shape)), { intraOpThreads: 1 });
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
