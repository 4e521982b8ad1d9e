/**
 * The wasm Slice and SplitV that copy only what they return (src/backend/wasm-slice.ts) give exactly the
 * cpu backend's results, for generated shapes (rank 1-5), windows and split sizes, in float32 and
 * int32, and leave no tensors or bytes behind.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmSlice } from '../../src/backend/wasm-slice.js';

const windows = fc
  .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 })
  .chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: d - b }))))),
      fc.constantFrom<'float32' | 'int32'>('float32', 'int32'),
    ),
  );

const values = (shape: readonly number[], dtype: 'float32' | 'int32'): tf.Tensor =>
  tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (dtype === 'int32' ? i : i * 0.5 - 3)), [...shape], dtype);

const on = async <T>(backend: string, f: () => T): Promise<T> => {
  await tf.setBackend(backend);
  return f();
};

describe('wasm Slice and SplitV', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerWasmSlice();
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('are registered once, in front of wasm\'s own', async () => {
    const before = tf.getKernel(tf.Slice, 'wasm');
    registerWasmSlice();
    expect(tf.getKernel(tf.Slice, 'wasm')).toBe(before);
  });

  it('slice exactly as the cpu backend does', async () => {
    await fc.assert(
      fc.asyncProperty(windows, async ([shape, window, dtype]) => {
        const begin = window.map(([b]) => b);
        const size = window.map(([, s]) => s);
        const slice = (): number[] => tf.tidy(() => Array.from(tf.slice(values(shape, dtype), begin, size).dataSync()));
        const expected = await on('cpu', slice);
        const got = await on('wasm', slice);
        expect(got).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('split exactly as the cpu backend does', async () => {
    const cases = fc
      .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 })
      .chain((shape) => fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 })))
      .chain(([shape, axis]) => fc.tuple(fc.constant(shape), fc.constant(axis), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 })));
    await fc.assert(
      fc.asyncProperty(cases, async ([shape, axis, parts]) => {
        // Sizes that add up to the axis length: the given parts, scaled down and topped up.
        const n = shape[axis] as number;
        const sizes: number[] = [];
        let left = n;
        for (const p of parts) {
          const s = Math.min(p, left);
          sizes.push(s);
          left -= s;
        }
        sizes.push(left);
        const split = (): number[][] => tf.tidy(() => tf.split(values(shape, 'float32'), sizes, axis).map((t) => Array.from(t.dataSync())));
        expect(await on('wasm', split)).toEqual(await on('cpu', split));
      }),
      { numRuns: 100 },
    );
  });

  it('leave nothing behind', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([4, 6, 6, 8]);
    const run = (): void => tf.tidy(() => void [tf.slice(x, [1, 1, 1, 0], [2, 4, 4, 8]), ...tf.split(x, [2, 6], 3)].forEach((t) => t.dataSync()));
    run();
    const before = tf.memory();
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    x.dispose();
  });
});
