/**
 * The flow laws, property-tested on generated flows: every bijector of the catalogue alone and random
 * compositions of them (shapes, parameters, inputs and conditioning all generated).
 * Tolerances are those of `defaultTolerances` in src/interpreters/verify.ts, justified there.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { verifyFlow, type VerifyReport } from '../src/interpreters/index.js';
import { flowArb, primitiveMakers, shapeArb } from './arbitraries.js';

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
  const names = primitiveMakers([4, 4, 4]).map((m) => m.name);
  it.each(names)('%s satisfies the flow laws on generated shapes, params and inputs', (name) => {
    fc.assert(
      fc.property(shapeArb, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 3 }), (shape, seed, batch) => {
        const maker = primitiveMakers(shape).find((m) => m.name === name);
        fc.pre(maker !== undefined);
        const report = verifyFlow(maker!.make(shape), { seed, batch });
        record(report);
        expect(report.passed, failures(report)).toBe(true);
      }),
      { numRuns: 12 },
    );
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
