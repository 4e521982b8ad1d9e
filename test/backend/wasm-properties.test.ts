/**
 * The flow laws on the wasm backend, which is what users get by default (the rest of the suite runs on
 * cpu): every primitive of the property table on generated image and vector shapes, and random
 * compositions, with typed-flows' wasm kernels registered as `selectBackend` registers them. A smaller
 * run than test/dsl/properties.test.ts (wasm is the same maths; this is about kernels that exist, and agree,
 * on wasm). Also wasm's missing UnsortedSegmentSum (the gradient of Gather), checked against cpu.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmKernels } from '../../src/backend/wasm-kernels.js';
import { identity, permute, repeat, type Shape } from '../../src/dsl/index.js';
import { forward, init, verifyFlow, type VerifyReport } from '../../src/interpreters/index.js';
import { flowArb, primitiveMakers, shapeArb, vectorShapeArb } from '../support/arbitraries.js';

const failures = (r: VerifyReport): string =>
  r.checks
    .filter((c) => !c.passed)
    .map((c) => `${c.name}: ${c.worst} > ${c.tolerance} (${c.detail})`)
    .join('\n');

describe('on the wasm backend', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerWasmKernels();
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('UnsortedSegmentSum gives the cpu backend\'s sums, ids out of range dropped', async () => {
    const cases = fc.record({
      rows: fc.integer({ min: 1, max: 12 }),
      inner: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 2 }),
      segments: fc.integer({ min: 1, max: 6 }),
      seed: fc.nat(1000),
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ rows, inner, segments, seed }) => {
        const xs = Array.from({ length: rows * inner.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(seed + i) * 3);
        const ids = Array.from({ length: rows }, (_, i) => ((seed * 7 + i * 5) % (segments + 2)) - 1);
        const run = (): number[] =>
          tf.tidy(() => Array.from(tf.unsortedSegmentSum(tf.tensor(xs, [rows, ...inner]), tf.tensor1d(ids, 'int32'), segments).dataSync()));
        const onWasm = run();
        await tf.setBackend('cpu');
        const onCpu = run();
        await tf.setBackend('wasm');
        // The same float32 sums, possibly added in another order: a few ulps (|x| <= 3, at most 12 terms).
        expect(onWasm.length).toBe(onCpu.length);
        onWasm.forEach((v, i) => expect(Math.abs(v - (onCpu[i] as number))).toBeLessThanOrEqual(1e-5));
        expect(onWasm.map((v) => v === 0)).toEqual(onCpu.map((v) => v === 0));
      }),
      { numRuns: 40 },
    );
  });

  it('a permute passes verify, dense Jacobian included (it crashed: no gradient of Gather on wasm)', () => {
    const before = tf.memory().numTensors;
    const report = verifyFlow(permute([2, 1, 1], [1, 0]), { seed: 0 });
    expect(report.passed, failures(report)).toBe(true);
    expect(report.checks.map((c) => c.name)).toContain('log-det reference');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a repeat of 17,000 layers runs (one AddN over all their log-dets crashed wasm above 16,383 inputs)', () => {
    const flow = repeat(identity([1]), 17_000);
    const params = init(flow);
    const x = tf.tensor2d([[0.5], [-2]]);
    const { y, logDet } = forward(flow, params)(x);
    expect(Array.from(y.dataSync())).toEqual([0.5, -2]);
    expect(Array.from(logDet.dataSync())).toEqual([0, 0]);
    for (const t of [x, y, logDet]) t.dispose();
  });

  const names = primitiveMakers([4, 4, 4]).map((m) => m.name);
  it.each(names)('%s satisfies the flow laws', (name) => {
    const shapes: fc.Arbitrary<Shape> = fc.oneof(shapeArb, vectorShapeArb);
    fc.assert(
      fc.property(shapes, fc.integer({ min: 0, max: 1000 }), (shape, seed) => {
        const maker = primitiveMakers(shape).find((m) => m.name === name);
        fc.pre(maker !== undefined);
        const report = verifyFlow(maker!.make(shape), { seed, batch: 2, perturb: 0.2 });
        expect(report.passed, failures(report)).toBe(true);
      }),
      { numRuns: 4 },
    );
  });

  it('random compositions satisfy the flow laws', () => {
    fc.assert(
      fc.property(flowArb(4), fc.integer({ min: 0, max: 1000 }), ({ flow }, seed) => {
        const report = verifyFlow(flow, { seed, batch: 2, perturb: 0.2 });
        expect(report.passed, failures(report)).toBe(true);
      }),
      { numRuns: 12 },
    );
  });
});
