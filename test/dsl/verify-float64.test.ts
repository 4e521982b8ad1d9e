/**
 * verify tells a wrong formula from float32's limits by checking a failing layer against its float64
 * self (src/interpreters/float64-checks.ts): test-only definitions written on the op algebra with a
 * sign error in a log-det, or a tfjs pass that strays from its own algebra, are formula errors; a logit
 * at alpha 0.999 (its p = alpha/2 + (1 - alpha) x / q near 1/2 keeps x only to q * 3e-8 / (1 - alpha)) is
 * precision, with the digits lost. `reference: 'float64'` makes the comparison a check of its own.
 * Also the float64 interpreter of a whole flow against tfjs, and its error for a kind not on the algebra.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { algebraic, unaryAlgebra } from '../../src/algebra/define.js';
import type { BijectorDefinition } from '../../src/dsl/definition.js';
import { chain, exp, invert, logit, repeat, sigmoid } from '../../src/dsl/index.js';
import { definitions } from '../../src/dsl/registry.js';
import type { ExpSpec } from '../../src/dsl/bijectors/exp.js';
import type { LogitSpec } from '../../src/dsl/bijectors/logit.js';
import { paramsToFloat64 } from '../../src/algebra/float64-tfjs.js';
import { float64Ops, type Float64Tensor } from '../../src/algebra/float64.js';
import { algebraRun, float64Run, NoAlgebraError } from '../../src/interpreters/algebra-run.js';
import { digitsLost } from '../../src/interpreters/float64-checks.js';
import { renderVerify } from '../../src/cli/verify-report.js';
import type { Ops } from '../../src/algebra/ops.js';
import { tfjsOps } from '../../src/algebra/tfjs.js';
import { disposeParams, forward, init, inverse, verifyFlow, type Check, type VerifyReport } from '../../src/interpreters/index.js';

const table = definitions() as Map<string, unknown>;
const originals = new Map(table);
afterEach(() => originals.forEach((d, k) => table.set(k, d)));
const real = <S extends { readonly kind: string }>(kind: string) => originals.get(kind) as BijectorDefinition<S>;
const failed = (r: VerifyReport): Check[] => r.checks.filter((c) => !c.passed);
const named = (r: VerifyReport, name: string): Check | undefined => r.checks.find((c) => c.name === name);

describe('verify: a wrong formula vs float32 precision', () => {
  /** logit's maths before its near-1/2 forms: p = alpha/2 + (1 - alpha) x / q rounded near 1/2, sigmoid(y) - alpha/2 back. */
  const oldLogit = (): BijectorDefinition<LogitSpec> => {
    const l = real<LogitSpec>('logit');
    const algebra = l.algebra;
    if (algebra === undefined) throw new Error('logit is written on the algebra');
    return {
      ...l,
      ...algebraic<LogitSpec>({
        forward: unaryAlgebra((o, spec, _p, x) => {
          const p = o.add(o.mul(x, o.scalar((1 - spec.alpha) / spec.levels)), o.scalar(spec.alpha / 2));
          return { out: o.sub(o.log(p), o.log1p(o.neg(p))), logDet: algebra.forward(o, spec, {}, [x], {}).logDet };
        }),
        inverse: unaryAlgebra((o, spec, _p, y) => ({
          out: o.mul(o.sub(o.sigmoid(y), o.scalar(spec.alpha / 2)), o.scalar(spec.levels / (1 - spec.alpha))),
          logDet: algebra.inverse(o, spec, {}, [y], {}).logDet,
        })),
      }),
    };
  };

  it('logit at alpha near 1 passes with its near-1/2 forms; the old forms fail as precision, with the digits lost', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 0.9999, noNaN: true }), fc.integer({ min: 2, max: 1024 }), fc.integer({ min: 0, max: 100 }), (alpha, levels, seed) => {
        const report = verifyFlow(logit([2, 2, 2], { alpha, levels }), { seed });
        expect(report.passed, failed(report).map((c) => `${c.name}: ${c.detail}`).join('\n')).toBe(true);
      }),
      { numRuns: 10 },
    );
    table.set('logit', oldLogit());
    const flow = logit([2, 2, 2], { alpha: 0.999 });
    const reports = [0, 1, 2, 3].map((seed) => verifyFlow(flow, { seed }));
    const trips = reports.map((r) => named(r, 'round trip')).filter((c): c is Check => c !== undefined && !c.passed);
    expect(trips.length).toBeGreaterThan(0);
    for (const c of trips) {
      expect(c.cause).toBe('precision');
      expect(c.layer).toBe('$');
      // The digits lost are those of the error itself: log10(error / 2^-24), over 3 here (errors 1e-4 to 1e-3).
      expect(c.digitsLost).toBeCloseTo(digitsLost(c.worst), 10);
      expect(c.digitsLost).toBeGreaterThan(3);
      expect(c.detail).toContain('holds in float64');
    }
    const text = renderVerify('logit.json', reports.map((report, seed) => ({ seed, report })));
    expect(text).toMatch(/cause: float32 precision at a layer that holds the law in float64 \([0-9.]+ of 7\.2 digits lost\) \(first at \$\)/);
    expect(text).toContain('FAILED: float32 precision, not a wrong formula');
  });

  it('a tfjs op less precise than float32 allows (log1p as log(1 + x)) is not called precision', () => {
    const l = real<LogitSpec>('logit');
    const algebra = l.algebra;
    if (algebra === undefined) throw new Error('logit is written on the algebra');
    const naive: Ops<tf.Tensor> = { ...tfjsOps, log1p: (a) => tf.log(tf.add(a, 1)) };
    table.set('logit', {
      ...l,
      forward: (spec, p, xs, ctx) => {
        const r = algebra.forward(naive, spec, p, xs, ctx);
        return { outs: r.outs, logDet: r.logDet as tf.Tensor1D };
      },
    } satisfies BijectorDefinition<LogitSpec>);
    const trips = [0, 1, 2, 3].map((seed) => named(verifyFlow(logit([2, 2, 2], { alpha: 0.999 }), { seed }), 'round trip')).filter((c): c is Check => c !== undefined && !c.passed);
    expect(trips.length).toBeGreaterThan(0);
    for (const c of trips) {
      expect(c.cause).toBe('formula');
      expect(c.detail).toContain('less precise than float32 allows');
    }
  });

  it("logit's inverse in the tanh form keeps the digits that sigmoid(y) - alpha/2 loses, and verify calls the latter precision", () => {
    const l = real<LogitSpec>('logit');
    const algebra = l.algebra;
    if (algebra === undefined) throw new Error('logit is written on the algebra');
    const sigmoidForm = algebraic<LogitSpec>({
      forward: algebra.forward,
      inverse: unaryAlgebra((o, spec, params, y, ctx) => ({
        out: o.mul(o.sub(o.sigmoid(y), o.scalar(spec.alpha / 2)), o.scalar(spec.levels / (1 - spec.alpha))),
        logDet: algebra.inverse(o, spec, params, [y], ctx).logDet,
      })),
    });
    const flow = logit([4, 2], { alpha: 0.999 });
    // The inverse's own error: float32 vs float64 at the same y across the image (-0.002, 0.002).
    const y = tf.randomUniform([8, 2, 4], -0.0019, 0.0019, 'float32', 5) as tf.Tensor3D;
    const inverseError = (): number => {
      const x32 = inverse(flow, {})(y);
      const x64 = float64Run(flow, {}, [y], {}, 'inverse').outs[0]?.data ?? new Float64Array();
      const got = x32.x.dataSync();
      tf.dispose([x32.x, x32.logDet]);
      return Math.max(...Array.from(x64, (v, i) => Math.abs((got[i] as number) - v) / (1 + Math.abs(v))));
    };
    const tanhError = inverseError();
    table.set('logit', { ...l, ...sigmoidForm } satisfies BijectorDefinition<LogitSpec>);
    const sigmoidError = inverseError();
    y.dispose();
    // float32 rounding of x in (0, 256): ~1e-7 normalised; sigmoid(y) near 1/2 rounds to 3e-8, times q / (1 - alpha) = 256,000.
    expect(tanhError).toBeLessThan(1e-6);
    expect(sigmoidError).toBeGreaterThan(1e-4);
    // A correctly rounded float32 run of the sigmoid form loses as much: precision, not a wrong formula.
    const trips = [0, 1, 2, 3].map((seed) => named(verifyFlow(flow, { seed }), 'round trip')).filter((c): c is Check => c !== undefined && !c.passed);
    expect(trips.length).toBeGreaterThan(0);
    for (const c of trips) expect(c.cause).toBe('precision');
  });

  it('a sign error in the forward log-det (a test-only definition on the algebra) is a formula error: the law fails in float64 too', () => {
    const e = real<ExpSpec>('exp');
    const wrong = algebraic<ExpSpec>({
      forward: unaryAlgebra((o, _spec, _p, x) => ({ out: o.exp(x), logDet: o.neg(o.sumEvent(x)) })),
      inverse: e.algebra!.inverse,
    });
    table.set('exp', { ...e, ...wrong } satisfies BijectorDefinition<ExpSpec>);
    const report = verifyFlow(chain(logit([3]), exp([3])), { seed: 0 });
    const c = named(report, 'log-det inverse');
    expect(c?.passed).toBe(false);
    expect(c?.cause).toBe('formula');
    expect(c?.layer).toBe('$.steps[1]');
    expect(c?.detail).toContain('fails in float64 too');
  });

  it('a consistent sign error in both log-dets passes the inverse law but fails the Jacobian, also in float64: formula', () => {
    const wrong = algebraic<ExpSpec>({
      forward: unaryAlgebra((o, _spec, _p, x) => ({ out: o.exp(x), logDet: o.neg(o.sumEvent(x)) })),
      inverse: unaryAlgebra((o, _spec, _p, y) => {
        const x = o.log(y);
        return { out: x, logDet: o.sumEvent(x) };
      }),
    });
    table.set('exp', { ...real<ExpSpec>('exp'), ...wrong } satisfies BijectorDefinition<ExpSpec>);
    // 300 dims: above the whole-flow dense-Jacobian limit, so each layer is checked against its own.
    const report = verifyFlow(chain(logit([300]), exp([300])), { seed: 0, maxReferenceSize: 300 });
    expect(failed(report).map((c) => c.name)).toEqual(['log-det reference']);
    const c = failed(report)[0];
    expect(c?.cause).toBe('formula');
    expect(c?.layer).toBe('$.steps[1]');
    expect(c?.detail).toContain('fails in float64 too');
  });

  it('a tfjs pass that strays from its own algebra is a formula error: float32 differs from float64 beyond float32 error', () => {
    const e = real<ExpSpec>('exp');
    table.set('exp', { ...e, forward: (spec, p, xs, ctx) => { const r = e.forward(spec, p, xs, ctx); return { outs: [tf.mul(r.outs[0] as tf.Tensor, 1.001)], logDet: r.logDet }; } } satisfies BijectorDefinition<ExpSpec>);
    const report = verifyFlow(chain(logit([3]), exp([3])), { seed: 0 });
    const c = named(report, 'round trip');
    expect(c?.cause).toBe('formula');
    expect(c?.layer).toBe('$.steps[1]');
    expect(c?.detail).toContain('beyond float32');
  });

  it("reference: 'float64' catches a stray below the laws' tolerances that verify without it passes", () => {
    const e = real<ExpSpec>('exp');
    table.set('exp', { ...e, forward: (spec, p, xs, ctx) => { const r = e.forward(spec, p, xs, ctx); return { outs: [tf.mul(r.outs[0] as tf.Tensor, 1 + 2e-5)], logDet: r.logDet }; } } satisfies BijectorDefinition<ExpSpec>);
    const flow = chain(logit([3]), exp([3]));
    expect(verifyFlow(flow, { seed: 0 }).passed).toBe(true);
    const report = verifyFlow(flow, { seed: 0, reference: 'float64' });
    expect(failed(report).map((c) => c.name)).toEqual(['float64 reference']);
    expect(failed(report)[0]?.cause).toBe('formula');
    expect(failed(report)[0]?.layer).toBe('$.steps[1]');
  });

  it('a kind not on the algebra keeps the old verdict and says why there is no float64 self', () => {
    const e = real<ExpSpec>('exp');
    const { algebra: _dropped, ...rest } = e;
    table.set('exp', { ...rest, forward: (spec, p, xs, ctx) => { const r = e.forward(spec, p, xs, ctx); return { outs: [tf.mul(r.outs[0] as tf.Tensor, 1.001)], logDet: r.logDet }; } } satisfies BijectorDefinition<ExpSpec>);
    const report = verifyFlow(chain(logit([3]), exp([3])), { seed: 0 });
    const c = named(report, 'round trip');
    expect(c?.cause).toBe('formula');
    expect(c?.detail).toContain("no float64 reference for 'exp' at $.steps[1]");
  });
});

describe("reference: 'float64' on correct flows", () => {
  it('passes on logits of any alpha up to 0.5 and levels, composed with sigmoids, exps and repeats', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 0.5, noNaN: true }), fc.integer({ min: 2, max: 4096 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 100 }), (alpha, levels, d, seed) => {
        const flow = chain(logit([d], { alpha, levels }), repeat(chain(sigmoid([d], { alpha: 0.01, levels: 2 }), logit([d], { alpha: 0.01, levels: 2 })), 2), exp([d]));
        const report = verifyFlow(flow, { seed, reference: 'float64' });
        expect(report.passed, failed(report).map((c) => `${c.name}: ${c.detail}`).join('\n')).toBe(true);
        expect(named(report, 'float64 reference')?.passed).toBe(true);
      }),
      { numRuns: 8 },
    );
  });
});

describe('the float64 interpreter of a flow', () => {
  it('agrees with tfjs to float32 precision, forward and inverse with log-dets, and round-trips in float64', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-5, max: 0.9, noNaN: true }), fc.integer({ min: 2, max: 1024 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1000 }), (alpha, levels, d, seed) => {
        const flow = chain(logit([d, 2], { alpha, levels }), invert(logit([d, 2], { alpha: 0.1, levels: 3 })), exp([d, 2]));
        const params = init(flow, { seed });
        const x = tf.randomUniform([3, 2, d], 0.05 * levels, 0.95 * levels, 'float32', seed) as tf.Tensor3D;
        const f32 = forward(flow, params)(x);
        const f64 = float64Run(flow, params, [x], {}, 'forward');
        // float32 tolerance: a few roundings per layer, amplified by at most 1/(1 - alpha) <= 10 in the logit: 1e-5.
        const ys = f32.y.dataSync();
        f64.outs[0]?.data.forEach((v, i) => expect(Math.abs((ys[i] as number) - v) / (1 + Math.abs(v))).toBeLessThan(1e-5));
        const lds = f32.logDet.dataSync();
        f64.logDet.data.forEach((v, i) => expect(Math.abs((lds[i] as number) - v) / (1 + Math.abs(v))).toBeLessThan(1e-5));
        // The float64 inverse from float64's outputs rounded to float32 agrees with tfjs's inverse.
        const yt = tf.tensor3d(Array.from(f64.outs[0]?.data ?? []), [3, 2, d], 'float32');
        const back = float64Run(flow, params, [yt], {}, 'inverse');
        const i32 = inverse(flow, params)(yt);
        const xs = x.dataSync();
        back.outs[0]?.data.forEach((v, i) => expect(Math.abs(v - (i32.x.dataSync()[i] as number)) / (1 + Math.abs(v))).toBeLessThan(1e-4));
        // In float64 from float64's own outputs (no float32 in between), the laws hold to ~1e-12.
        const home = algebraRun(float64Ops, flow, paramsToFloat64(params), f64.outs, {}, 'inverse');
        const hx = home.outs[0] as Float64Tensor;
        xs.forEach((v, i) => expect(Math.abs((hx.data[i] as number) - v) / (1 + Math.abs(v))).toBeLessThan(1e-9));
        (home.logDet as Float64Tensor).data.forEach((v, i) => expect(Math.abs(v + (f64.logDet.data[i] as number))).toBeLessThan(1e-9));
        tf.dispose([x, f32.y, f32.logDet, yt, i32.x, i32.logDet]);
        disposeParams(params);
      }),
      { numRuns: 15 },
    );
  });

  it('names the kind and path of a primitive not on the algebra', () => {
    const { algebra: _dropped, ...rest } = real<ExpSpec>('exp');
    table.set('exp', rest);
    const x = tf.ones([1, 2]);
    expect(() => float64Run(chain(logit([2]), exp([2])), [], [x], {}, 'forward')).toThrow(NoAlgebraError);
    expect(() => float64Run(chain(logit([2]), exp([2])), [], [x], {}, 'forward')).toThrow("cannot run 'exp' at $.steps[1]");
    x.dispose();
  });
});
