/**
 * verify on flows as deep as people build them, with expected verdicts: Glows of 24-128 steps and
 * 1,000-layer stacks pass on every seed tried (with a fixed noise at every layer they failed: the
 * activations grew to 1e17); the test doubles (a sign error in an inverse log-det, a missing clamp
 * factor, a non-inverse, a leak) still fail inside deep flows, and the failure names the layer; inputs
 * leaving a layer's domain and float32 overflow are told apart.
 * Dense Jacobians are skipped (maxReferenceSize 0) where they are not the point: on the cpu backend a
 * 256-dimensional Jacobian of a conv layer takes about half a second.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { BijectorDefinition } from '../../src/dsl/definition.js';
import { actnorm, affine, affineCoupling, chain, convNet, exp, inv1x1, logit, repeat, sigmoid, type Shape3 } from '../../src/dsl/index.js';
import { definitions } from '../../src/dsl/registry.js';
import type { AffineCouplingSpec, Inv1x1Spec } from '../../src/dsl/spec.js';
import { disposeParams, verifyFlow, type ParamTree, type VerifyReport } from '../../src/interpreters/index.js';

const failures = (r: VerifyReport): string =>
  r.checks
    .filter((c) => !c.passed)
    .map((c) => `${c.name}: ${c.worst} (${c.detail})`)
    .join('\n');
const failed = (r: VerifyReport) => r.checks.filter((c) => !c.passed);

const glowStep = (s: Shape3) => chain(actnorm(s), inv1x1(s), affineCoupling(s, { net: convNet({ hidden: 8 }) }));
const glow = (s: Shape3, steps: number) => repeat(glowStep(s), steps);

describe('deep flows pass on every seed tried', () => {
  it.each([
    ['a 24-step Glow at [16,8,8]', () => glow([16, 8, 8], 24)],
    ['a 64-step Glow at [4,8,8]', () => glow([4, 8, 8], 64)],
    ['a 128-step Glow at [4,4,4]', () => glow([4, 4, 4], 128)],
    ['1,000 actnorms', () => repeat(actnorm([4, 2, 2]), 1000)],
  ])('%s', (_name, make) => {
    const flow = make();
    for (const seed of [0, 1]) {
      const report = verifyFlow(flow, { seed, maxReferenceSize: 0 });
      expect(report.passed, failures(report)).toBe(true);
      // Errors stay near float32 rounding, far below the tolerance, rather than just under it.
      for (const c of report.checks.filter((x) => x.name === 'round trip' || x.name === 'reverse round trip')) expect(c.worst).toBeLessThan(1e-4);
    }
  });

  it("1,000 inv1x1 layers: the log-det matches the whole flow's dense Jacobian", () => {
    const report = verifyFlow(repeat(inv1x1([4, 1, 1]), 1000), { seed: 0 });
    expect(report.passed, failures(report)).toBe(true);
    expect(report.checks.find((c) => c.name === 'log-det reference')?.worst).toBeLessThan(1e-3);
  });

  it('a flow above the dense-Jacobian limit has its log-det checked layer by layer, and says so', () => {
    const report = verifyFlow(glow([8, 4, 4], 2), { seed: 0, maxReferenceSize: 64 });
    expect(report.passed, failures(report)).toBe(true);
    const perLayer = report.checks.find((c) => c.name === 'log-det reference (per layer)');
    expect(perLayer?.detail).toContain('6 of 6 layers checked');
    expect(report.notes[0]).toContain('not run: 128 dimensions per sample is above the dense-Jacobian limit of 64');
  });

  it('with no Jacobian at all allowed, there is no reference check, only a note saying why', () => {
    const report = verifyFlow(glow([4, 2, 2], 2), { seed: 0, maxReferenceSize: 0 });
    expect(report.checks.map((c) => c.name)).not.toContain('log-det reference (per layer)');
    expect(report.notes[0]).toContain('no layer was small enough either');
  });
});

describe('the test doubles still fail inside deep flows, and the failure names the layer', () => {
  const table = definitions() as Map<string, unknown>;
  const originals = new Map(table);
  afterEach(() => originals.forEach((d, k) => table.set(k, d)));
  const real = <S extends { readonly kind: string }>(kind: string) => originals.get(kind) as BijectorDefinition<S>;
  // 16 Glow steps on [4,2,2] (16 dims: the whole-flow Jacobian is cheap); the double replaces a kind, so
  // every copy is wrong and the first one ($.body.steps[1] of the first copy) is named.
  const deep = glow([4, 2, 2], 16);

  it("the reference CAFLOW code's sign error (inverse 1x1 conv reporting +log|det W|)", () => {
    const inv = real<Inv1x1Spec>('inv1x1');
    table.set('inv1x1', { ...inv, inverse: (spec, p, y, ctx) => { const r = inv.inverse(spec, p, y, ctx); return { outs: r.outs, logDet: tf.neg(r.logDet) }; } } satisfies BijectorDefinition<Inv1x1Spec>);
    const report = verifyFlow(deep, { seed: 1 });
    const bad = failed(report).find((c) => c.name === 'log-det inverse');
    expect(bad?.cause).toBe('formula');
    expect(bad?.layer).toBe('$.body.steps[1]');
  });

  it("a coupling whose log-det drops the soft clamp's 2·clamp/pi, consistently both ways", () => {
    const c = real<AffineCouplingSpec>('affineCoupling');
    const unclamped = (spec: AffineCouplingSpec, p: Parameters<typeof c.forward>[1], x: readonly tf.Tensor[]): tf.Tensor1D =>
      tf.div(c.forward(spec, p, x, {}).logDet, (2 * spec.clamp) / Math.PI) as tf.Tensor1D;
    table.set('affineCoupling', {
      ...c,
      forward: (spec, p, x, ctx) => ({ outs: c.forward(spec, p, x, ctx).outs, logDet: unclamped(spec, p, x) }),
      inverse: (spec, p, y, ctx) => {
        const outs = c.inverse(spec, p, y, ctx).outs;
        return { outs, logDet: tf.neg(unclamped(spec, p, outs)) };
      },
    } satisfies BijectorDefinition<AffineCouplingSpec>);
    const report = verifyFlow(deep, { seed: 1, perturb: 0.5 });
    expect(failed(report).map((x) => x.name)).toEqual(['log-det reference']);
    expect(failed(report)[0]?.layer).toBe('$.body.steps[2]');
  });

  it('a forward pass that is not the inverse of the inverse pass', () => {
    const inv = real<Inv1x1Spec>('inv1x1');
    table.set('inv1x1', { ...inv, forward: (spec, p, x, ctx) => { const r = inv.forward(spec, p, x, ctx); return { outs: [tf.mul(r.outs[0] as tf.Tensor, 1.001)], logDet: r.logDet }; } } satisfies BijectorDefinition<Inv1x1Spec>);
    const report = verifyFlow(deep, { seed: 1, maxReferenceSize: 0 });
    const rt = failed(report).find((x) => x.name === 'round trip');
    expect(rt?.layer).toBe('$.body.steps[1]');
    expect(rt?.cause).toBe('formula');
  });

  it('maths that leaks a tensor', () => {
    const inv = real<Inv1x1Spec>('inv1x1');
    const kept: tf.Tensor[] = [];
    table.set('inv1x1', { ...inv, forward: (spec, p, x, ctx) => { kept.push(tf.keep(tf.zeros([1]))); return inv.forward(spec, p, x, ctx); } } satisfies BijectorDefinition<Inv1x1Spec>);
    expect(failed(verifyFlow(deep, { seed: 1, maxReferenceSize: 0 })).map((c) => c.name)).toEqual(['tensor leak']);
    kept.forEach((t) => t.dispose());
  });
});

describe('causes are told apart', () => {
  it('inputs that leave a layer\'s domain: an affine map before a logit', () => {
    const report = verifyFlow(chain(affine([2, 2, 2]), logit([2, 2, 2])), { seed: 0 });
    const c = failed(report)[0];
    expect(c?.cause).toBe('domain');
    expect(c?.layer).toBe('$.steps[1]');
    expect(c?.remedy).toContain('--perturb');
  });

  it('float32 overflow: exp of values shifted by 100 (exp(100) > 3.4e38)', () => {
    const params: ParamTree = [{ logScale: tf.zeros([2]), shift: tf.fill([2], 100) }, {}];
    const report = verifyFlow(chain(affine([2]), exp([2])), { seed: 0, params });
    const c = failed(report)[0];
    expect(c?.cause).toBe('overflow');
    expect(c?.layer).toBe('$.steps[1]');
    disposeParams(params);
  });

  it('a saturating sigmoid after a logit and 16 actnorms passes: each layer matches its own Jacobian', () => {
    const flow = chain(logit([2, 2, 2]), repeat(actnorm([2, 2, 2]), 16), sigmoid([2, 2, 2]));
    for (const seed of [0, 1, 2]) {
      const report = verifyFlow(flow, { seed });
      expect(report.passed, failures(report)).toBe(true);
    }
  });
});
