/**
 * The checks can fail: swap a kernel for a test double with a wrong log-det and the flow laws must
 * catch it. (A check that cannot fail would pass these flows.)
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { affineCoupling, chain, convNet, inv1x1, squeeze } from '../src/dsl/index.js';
import type { AffineCouplingSpec, Inv1x1Spec } from '../src/dsl/spec.js';
import { verifyFlow } from '../src/interpreters/index.js';
import { kernels, type Kernel } from '../src/interpreters/kernels/index.js';

const table = kernels as unknown as Record<string, Kernel<never>>;
const originals = { ...table };
afterEach(() => Object.assign(table, originals));

const failed = (report: ReturnType<typeof verifyFlow>): string[] => report.checks.filter((c) => !c.passed).map((c) => c.name);

describe('verifyFlow catches wrong log-dets', () => {
  const flow = chain(squeeze([2, 4, 4]), inv1x1([8, 2, 2]), affineCoupling([8, 2, 2], { net: convNet({ hidden: 4 }) }));

  it('passes with the real kernels', () => {
    expect(verifyFlow(flow, { seed: 1 }).passed).toBe(true);
  });

  it("catches the reference CAFLOW code's sign error: inverse of the 1x1 conv reporting +log|det W|", () => {
    const real = originals['inv1x1'] as unknown as Kernel<Inv1x1Spec>;
    const buggy: Kernel<Inv1x1Spec> = {
      ...real,
      inverse: (spec, p, y, ctx) => {
        const pass = real.inverse(spec, p, y, ctx);
        return { out: pass.out, logDet: tf.neg(pass.logDet) };
      },
    };
    table['inv1x1'] = buggy as unknown as Kernel<never>;
    expect(failed(verifyFlow(flow, { seed: 1 }))).toEqual(['log-det inverse']);
  });

  it("catches a coupling whose log-det drops the soft clamp's scale 2·clamp/pi, consistently in both directions", () => {
    // forward and inverse agree with each other (fldj = -ildj), so only the dense Jacobian can tell.
    const real = originals['affineCoupling'] as unknown as Kernel<AffineCouplingSpec>;
    const unclamped = (spec: AffineCouplingSpec, p: Parameters<typeof real.forward>[1], x: tf.Tensor4D): tf.Tensor1D => {
      // sum(atan(s_raw)) instead of sum(clamp * 2/pi * atan(s_raw)).
      const { logDet } = real.forward(spec, p, x, {});
      return tf.div(logDet, (2 * spec.clamp) / Math.PI) as tf.Tensor1D;
    };
    const buggy: Kernel<AffineCouplingSpec> = {
      ...real,
      forward: (spec, p, x, ctx) => ({ out: real.forward(spec, p, x, ctx).out, logDet: unclamped(spec, p, x) }),
      inverse: (spec, p, y, ctx) => {
        const out = real.inverse(spec, p, y, ctx).out;
        return { out, logDet: tf.neg(unclamped(spec, p, out)) };
      },
    };
    table['affineCoupling'] = buggy as unknown as Kernel<never>;
    const report = verifyFlow(flow, { seed: 1, perturb: 0.5 });
    expect(failed(report)).toEqual(['log-det reference']);
  });

  it('catches a forward pass that is not the inverse of the inverse pass', () => {
    const real = originals['inv1x1'] as unknown as Kernel<Inv1x1Spec>;
    const buggy: Kernel<Inv1x1Spec> = {
      ...real,
      forward: (spec, p, x, ctx) => {
        const pass = real.forward(spec, p, x, ctx);
        return { out: tf.mul<tf.Tensor4D>(pass.out, 1.001), logDet: pass.logDet };
      },
    };
    table['inv1x1'] = buggy as unknown as Kernel<never>;
    const names = failed(verifyFlow(flow, { seed: 1 }));
    expect(names).toContain('round trip');
    expect(names).toContain('reverse round trip');
  });

  it('catches a kernel that leaks a tensor', () => {
    const real = originals['inv1x1'] as unknown as Kernel<Inv1x1Spec>;
    const kept: tf.Tensor[] = [];
    const leaky: Kernel<Inv1x1Spec> = {
      ...real,
      forward: (spec, p, x, ctx) => {
        kept.push(tf.keep(tf.zeros([1])));
        return real.forward(spec, p, x, ctx);
      },
    };
    table['inv1x1'] = leaky as unknown as Kernel<never>;
    expect(failed(verifyFlow(flow, { seed: 1, maxReferenceSize: 0 }))).toEqual(['tensor leak']);
    kept.forEach((t) => t.dispose());
  });
});
