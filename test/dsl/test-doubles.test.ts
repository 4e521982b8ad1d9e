/**
 * The checks can fail: swap a bijector's definition for a test double with a wrong log-det and the
 * flow laws must catch it. (A check that cannot fail would pass these flows.)
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { BijectorDefinition } from '../../src/dsl/definition.js';
import { affineCoupling, chain, convNet, inv1x1, squeeze } from '../../src/dsl/index.js';
import { definitions } from '../../src/dsl/registry.js';
import type { AffineCouplingSpec, Inv1x1Spec } from '../../src/dsl/spec.js';
import { verifyFlow } from '../../src/interpreters/index.js';

// The registry's table, swapped entry by entry for test doubles and restored after each test.
const table = definitions() as Map<string, unknown>;
const originals = new Map(table);
afterEach(() => originals.forEach((d, k) => table.set(k, d)));

/** A definition's one-tensor maths, as the doubles below wrap it. */
type Kernel<S extends { readonly kind: string }> = BijectorDefinition<S>;
const one = (t: readonly tf.Tensor[]): tf.Tensor4D => t[0] as tf.Tensor4D;

const failed = (report: ReturnType<typeof verifyFlow>): string[] => report.checks.filter((c) => !c.passed).map((c) => c.name);

describe('verifyFlow catches wrong log-dets', () => {
  const flow = chain(squeeze([2, 4, 4]), inv1x1([8, 2, 2]), affineCoupling([8, 2, 2], { net: convNet({ hidden: 4 }) }));

  it('passes with the real definitions', () => {
    expect(verifyFlow(flow, { seed: 1 }).passed).toBe(true);
  });

  it("catches the reference CAFLOW code's sign error: inverse of the 1x1 conv reporting +log|det W|", () => {
    const real = originals.get('inv1x1') as Kernel<Inv1x1Spec>;
    const buggy: Kernel<Inv1x1Spec> = {
      ...real,
      inverse: (spec, p, y, ctx) => {
        const pass = real.inverse(spec, p, y, ctx);
        return { outs: pass.outs, logDet: tf.neg(pass.logDet) };
      },
    };
    table.set('inv1x1', buggy);
    expect(failed(verifyFlow(flow, { seed: 1 }))).toEqual(['log-det inverse']);
  });

  it("catches a coupling whose log-det drops the soft clamp's scale 2·clamp/pi, consistently in both directions", () => {
    // forward and inverse agree with each other (fldj = -ildj), so only the dense Jacobian can tell.
    const real = originals.get('affineCoupling') as Kernel<AffineCouplingSpec>;
    const unclamped = (spec: AffineCouplingSpec, p: Parameters<typeof real.forward>[1], x: readonly tf.Tensor[]): tf.Tensor1D => {
      // sum(atan(s_raw)) instead of sum(clamp * 2/pi * atan(s_raw)).
      const { logDet } = real.forward(spec, p, x, {});
      return tf.div(logDet, (2 * spec.clamp) / Math.PI) as tf.Tensor1D;
    };
    const buggy: Kernel<AffineCouplingSpec> = {
      ...real,
      forward: (spec, p, x, ctx) => ({ outs: real.forward(spec, p, x, ctx).outs, logDet: unclamped(spec, p, x) }),
      inverse: (spec, p, y, ctx) => {
        const outs = real.inverse(spec, p, y, ctx).outs;
        return { outs, logDet: tf.neg(unclamped(spec, p, outs)) };
      },
    };
    table.set('affineCoupling', buggy);
    const report = verifyFlow(flow, { seed: 1, perturb: 0.5 });
    expect(failed(report)).toEqual(['log-det reference']);
  });

  it('catches a forward pass that is not the inverse of the inverse pass', () => {
    const real = originals.get('inv1x1') as Kernel<Inv1x1Spec>;
    const buggy: Kernel<Inv1x1Spec> = {
      ...real,
      forward: (spec, p, x, ctx) => {
        const pass = real.forward(spec, p, x, ctx);
        return { outs: [tf.mul<tf.Tensor4D>(one(pass.outs), 1.001)], logDet: pass.logDet };
      },
    };
    table.set('inv1x1', buggy);
    const names = failed(verifyFlow(flow, { seed: 1 }));
    expect(names).toContain('round trip');
    expect(names).toContain('reverse round trip');
  });

  it('catches maths that leaks a tensor', () => {
    const real = originals.get('inv1x1') as Kernel<Inv1x1Spec>;
    const kept: tf.Tensor[] = [];
    const leaky: Kernel<Inv1x1Spec> = {
      ...real,
      forward: (spec, p, x, ctx) => {
        kept.push(tf.keep(tf.zeros([1])));
        return real.forward(spec, p, x, ctx);
      },
    };
    table.set('inv1x1', leaky);
    expect(failed(verifyFlow(flow, { seed: 1, maxReferenceSize: 0 }))).toEqual(['tensor leak']);
    kept.forEach((t) => t.dispose());
  });
});
