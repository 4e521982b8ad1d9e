/**
 * The flow laws, property-tested on generated flows: every bijector of the catalogue alone, on image
 * events [C,H,W] and, where it accepts them, vector events [D], and random compositions of them
 * (shapes, parameters, inputs and conditioning all generated).
 * Tolerances are those of `defaultTolerances` in src/interpreters/verify.ts, justified there.
 *
 * Parameters are fresh ones plus Gaussian noise (std PERTURB, scaled by fan-in for mixing matrices):
 * a fresh coupling is the identity and would hide a sign error, so each case also checks that its
 * parameters are not trivial (the perturbed flow moves its input or its log-det away from the fresh one).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { AnyFlow, Shape } from '../../src/dsl/index.js';
import { disposeParams, domains, forward, init, perturbedParams, sampleInputs, signature, verifyFlow, type VerifyReport } from '../../src/interpreters/index.js';
import { flowArb, primitiveMakers, shapeArb, vectorShapeArb } from '../support/arbitraries.js';

/** The parameter noise of every property run (verify's default, passed explicitly). */
const PERTURB = 0.2;

/**
 * How far the perturbed flow is from the freshly initialised one on the same input: max |Δy| plus max
 * |Δ log-det|. Above 1e-3 means the parameters are not the identity's (a perturbation of 0.2 moves
 * outputs by O(0.1)); parameterless kinds are exempt.
 */
const distanceFromFresh = (flow: AnyFlow, seed: number): number => {
  const fresh = init(flow, { seed });
  const moved = perturbedParams(flow, seed, PERTURB);
  const sig = signature(flow);
  const xs = sampleInputs(sig.ins, domains(flow), 2, seed + 5);
  const ctx = Object.fromEntries(Object.entries(sig.cond).map(([k, c]) => [k, tf.randomNormal([2, ...c.slice(1), c[0] as number], 0, 1, 'float32', seed)]));
  const a = forward(flow, fresh)(xs, ctx);
  const b = forward(flow, moved)(xs, ctx);
  const d = tf.tidy(() => {
    const dy = Math.max(...a.ys.map((y, i) => tf.max(tf.abs(tf.sub(y, b.ys[i] as tf.Tensor))).dataSync()[0] as number));
    return dy + (tf.max(tf.abs(tf.sub(a.logDet, b.logDet))).dataSync()[0] as number);
  });
  for (const t of [...a.ys, ...b.ys, a.logDet, b.logDet, ...xs, ...Object.values(ctx)]) t.dispose();
  disposeParams(fresh);
  disposeParams(moved);
  return d;
};

const hasParams = (flow: AnyFlow): boolean => {
  const p = init(flow);
  const n = Object.keys(p).length;
  disposeParams(p);
  return n > 0;
};

const failures = (r: VerifyReport): string =>
  r.checks
    .filter((c) => !c.passed)
    .map((c) => `${c.name}: ${c.worst} > ${c.tolerance} (${c.detail})`)
    .join('\n');

/** Worst errors seen across the run, printed at the end for the record. */
const worst: Record<string, number> = {};
const record = (r: VerifyReport): void => {
  for (const c of r.checks) worst[c.name] = Math.max(worst[c.name] ?? 0, c.worst);
};

// For the record (closing notes): the worst normalised error of each check over the whole run.
afterAll(() => console.log(`worst normalised errors: ${JSON.stringify(worst)}`));

describe('every primitive of the catalogue', () => {
  const imageNames = new Set(primitiveMakers([4, 4, 4]).map((m) => m.name));
  const vectorNames = new Set(primitiveMakers([4]).map((m) => m.name));
  const names = [...new Set([...imageNames, ...vectorNames])];
  const shapes: fc.Arbitrary<Shape> = fc.oneof(shapeArb, vectorShapeArb);
  it.each(names)('%s satisfies the flow laws on generated shapes, non-trivial params and inputs', (name) => {
    const ranks = new Set<number>();
    fc.assert(
      fc.property(shapes, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 3 }), (shape, seed, batch) => {
        const maker = primitiveMakers(shape).find((m) => m.name === name);
        fc.pre(maker !== undefined);
        const flow = maker!.make(shape);
        const report = verifyFlow(flow, { seed, batch, perturb: PERTURB });
        record(report);
        expect(report.passed, failures(report)).toBe(true);
        if (hasParams(flow)) expect(distanceFromFresh(flow, seed)).toBeGreaterThan(1e-3);
        ranks.add(shape.length);
      }),
      { numRuns: 16 },
    );
    // Rank-generic kinds were exercised on vectors and images, image kinds on images, vector kinds on vectors.
    expect([...ranks].sort()).toEqual([...(vectorNames.has(name) ? [1] : []), ...(imageNames.has(name) ? [3] : [])]);
  });
});

describe('random compositions', () => {
  it('chains of primitives, inverses, repeats, logit and multiscale factor-out satisfy the flow laws', () => {
    fc.assert(
      fc.property(flowArb(4), fc.integer({ min: 0, max: 1000 }), ({ flow }, seed) => {
        const report = verifyFlow(flow, { seed, batch: 2 });
        record(report);
        expect(report.passed, failures(report)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('passes leave no tensors behind', () => {
    const before = tf.memory().numTensors;
    fc.assert(
      fc.property(flowArb(3), ({ flow }) => {
        verifyFlow(flow, { seed: 1, batch: 1, maxReferenceSize: 0 });
      }),
      { numRuns: 10 },
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
