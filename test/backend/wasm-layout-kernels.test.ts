/**
 * The Concat, Identity and BatchMatMul that typed-flows puts in front of the wasm backend's own
 * (src/backend/wasm-concat.ts, wasm-identity.ts, wasm-matmul.ts) against the cpu backend, on generated
 * shapes: Concat and Identity only move data, so they must agree exactly; a matrix product may sum in
 * another order, so it must agree within the float32 bound for a K-term dot product,
 * |error| <= K * 2^-23 * sum_k |a_ik b_kj| (the classic gamma_K bound with unit roundoff 2^-24, doubled
 * for the two backends' independent rounding). Nothing may be left behind in the wasm heap.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmKernels } from '../../src/backend/wasm-kernels.js';
import { useStockWasmKernels } from '../../src/backend/wasm-kernel-registry.js';

const values = (shape: readonly number[], dtype: 'float32' | 'int32' | 'bool', start: number): tf.Tensor =>
  tf.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (dtype === 'int32' ? start + i : dtype === 'bool' ? (start + i) % 3 : (start + i) * 0.25 - 3)),
    [...shape],
    dtype,
  );

const on = async <T>(backend: string, f: () => T): Promise<T> => {
  await tf.setBackend(backend);
  return f();
};

/** Data buffers the wasm backend holds: must return to where it was after each test's tensors are gone. */
const wasmBuffers = (): number => (tf.findBackend('wasm') as tf.KernelBackend).numDataIds();

describe('wasm layout kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerWasmKernels();
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('are registered once, in front of wasm\'s own', () => {
    const before = [tf.Concat, tf.Identity, tf.Cast, tf.BatchMatMul].map((k) => tf.getKernel(k, 'wasm'));
    registerWasmKernels();
    expect([tf.Concat, tf.Identity, tf.Cast, tf.BatchMatMul].map((k) => tf.getKernel(k, 'wasm'))).toEqual(before);
  });

  it('concat exactly as the cpu backend does, along any axis, with empty parts', async () => {
    const cases = fc
      .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 })
      .chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          fc.integer({ min: 0, max: shape.length - 1 }),
          // The size of each part along the axis (0 = an empty part).
          fc.array(fc.integer({ min: 0, max: 70 }), { minLength: 1, maxLength: 4 }),
          fc.constantFrom<'float32' | 'int32' | 'bool'>('float32', 'int32', 'bool'),
        ),
      );
    await fc.assert(
      fc.asyncProperty(cases, async ([shape, axis, sizes, dtype]) => {
        const concat = (): number[] =>
          tf.tidy(() => {
            const parts = sizes.map((s, i) => values(shape.map((d, j) => (j === axis ? s : d)), dtype, 100 * i));
            const out = tf.concat(parts, axis);
            expect(out.shape).toEqual(shape.map((d, j) => (j === axis ? sizes.reduce((a, b) => a + b, 0) : d)));
            return Array.from(out.dataSync());
          });
        const expected = await on('cpu', concat);
        expect(await on('wasm', concat)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('can be swapped back to wasm\'s own for before/after benchmarks (useStockWasmKernels)', async () => {
    await tf.setBackend('wasm');
    const ours = tf.getKernel(tf.Identity, 'wasm');
    const buffersOfAClone = (): number => {
      const before = wasmBuffers();
      const x = tf.ones([4]);
      const y = tf.clone(x);
      const added = wasmBuffers() - before;
      tf.dispose([x, y]);
      return added;
    };
    useStockWasmKernels(true);
    expect(tf.getKernel(tf.Identity, 'wasm')).not.toBe(ours);
    expect(buffersOfAClone()).toBe(2); // wasm's own Identity copies
    useStockWasmKernels(false);
    expect(tf.getKernel(tf.Identity, 'wasm')).toBe(ours);
    expect(buffersOfAClone()).toBe(1);
  });

  it('clone without copying, and each clone outlives its source', async () => {
    await tf.setBackend('wasm');
    const before = wasmBuffers();
    const x = values([3, 5], 'float32', 1);
    const copy = tf.clone(x);
    expect(wasmBuffers()).toBe(before + 1); // shared: wasm's own Identity would hold 2 buffers
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual(Array.from({ length: 15 }, (_, i) => (1 + i) * 0.25 - 3));
    copy.dispose();
    expect(wasmBuffers()).toBe(before);
  });

  it('cast to the same dtype without copying, and really cast otherwise, as the cpu backend does', async () => {
    await tf.setBackend('wasm');
    const before = wasmBuffers();
    const x = tf.tensor1d([-2.7, -0.5, 0, 0.5, 2.7, 1e6]);
    const same = tf.cast(x, 'float32');
    expect(wasmBuffers()).toBe(before + 1);
    x.dispose();
    expect(Array.from(same.dataSync())).toEqual([-2.7, -0.5, 0, 0.5, 2.7, 1e6].map(Math.fround));
    same.dispose();
    expect(wasmBuffers()).toBe(before);
    const casts = (): number[][] =>
      tf.tidy(() => {
        const f = tf.tensor1d([-2.7, -0.5, 0, 0.5, 2.7, 1e6, 3e9, NaN, -Infinity]);
        const i = tf.tensor1d([-3, 0, 2, 7], 'int32');
        return [tf.cast(f, 'int32'), tf.cast(f, 'bool'), tf.cast(i, 'float32'), tf.cast(i, 'bool'), tf.cast(i, 'int32')].map((t) => Array.from(t.dataSync()));
      });
    expect(await on('wasm', casts)).toEqual(await on('cpu', casts));
  });

  it('keep gradients right when autodiff saves (clones) tensors for the backward pass', async () => {
    const grads = (): number[][] =>
      tf.tidy(() => {
        const a = values([4, 3], 'float32', 1);
        const b = values([3, 2], 'float32', 7);
        const f = (p: tf.Tensor, q: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.exp(tf.mul(tf.matMul(p, q), 0.01)), tf.matMul(p, q)));
        return tf.grads(f)([a, b]).map((g) => Array.from(g.dataSync()));
      });
    const expected = await on('cpu', grads);
    const got = await on('wasm', grads);
    got.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo((expected[i] as number[])[j] as number, 3)));
  });

  it('multiply with transposed operands as the cpu backend does, within the dot-product rounding bound', async () => {
    const cases = fc.record({
      batch: fc.constantFrom<readonly number[]>([], [1], [3], [2, 2]),
      broadcastB: fc.boolean(),
      m: fc.integer({ min: 1, max: 9 }),
      k: fc.integer({ min: 1, max: 70 }),
      n: fc.integer({ min: 1, max: 9 }),
      transposeA: fc.boolean(),
      transposeB: fc.boolean(),
      seed: fc.integer({ min: 1, max: 1000 }),
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ batch, broadcastB, m, k, n, transposeA, transposeB, seed }) => {
        const bBatch = broadcastB && batch.length > 0 ? batch.map(() => 1) : batch;
        const aShape = [...batch, ...(transposeA ? [k, m] : [m, k])];
        const bShape = [...bBatch, ...(transposeB ? [n, k] : [k, n])];
        const run = (): { c: number[]; bound: number[] } =>
          tf.tidy(() => {
            const a = tf.randomNormal(aShape, 0, 1, 'float32', seed);
            const b = tf.randomNormal(bShape, 0, 1, 'float32', seed + 1);
            const c = tf.matMul(a, b, transposeA, transposeB);
            const bound = tf.mul(tf.matMul(tf.abs(a), tf.abs(b), transposeA, transposeB), k * 2 ** -23);
            return { c: Array.from(c.dataSync()), bound: Array.from(bound.dataSync()) };
          });
        const expected = await on('cpu', run);
        const got = await on('wasm', run);
        expect(got.c.length).toBe(expected.c.length);
        got.c.forEach((v, i) => expect(Math.abs(v - (expected.c[i] as number))).toBeLessThanOrEqual((expected.bound[i] as number) + 1e-30));
      }),
      { numRuns: 120 },
    );
  });

  it('a transposed product is bitwise the product of the explicitly transposed operands', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      const a = tf.randomNormal([128, 96], 0, 1, 'float32', 3);
      const b = tf.randomNormal([128, 40], 0, 1, 'float32', 4);
      expect(Array.from(tf.matMul(a, b, true, false).dataSync())).toEqual(Array.from(tf.matMul(tf.transpose(a), b).dataSync()));
      expect(Array.from(tf.matMul(b, a, true, false).dataSync())).toEqual(Array.from(tf.matMul(tf.transpose(b), a).dataSync()));
    });
  });

  it('report a shape mismatch with the flags the caller passed', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      expect(() => tf.matMul(tf.ones([5, 3]), tf.ones([4, 3]), true, true)).toThrow(/transposeA=true and transposeB=true/);
    });
  });

  it('leave nothing behind', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([4, 6, 6, 8]);
    const w = tf.randomNormal([8, 8]);
    const run = (): void =>
      tf.tidy(() => {
        const flat = tf.reshape(x, [144, 8]);
        [tf.concat([x, x], 3), tf.clone(x), tf.matMul(w, flat, false, true), tf.matMul(flat, w, false, true), tf.matMul(flat, flat, true, false)].forEach((t) => t.dataSync());
        tf.grads((a: tf.Tensor) => tf.sum(tf.matMul(a, w)))([flat]);
      });
    run();
    const before = tf.memory();
    const buffers = wasmBuffers();
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(wasmBuffers()).toBe(buffers);
    tf.dispose([x, w]);
  });
});
