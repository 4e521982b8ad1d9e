/**
 * The conv gradient kernels registered for the wasm backend (src/backend/wasm-conv-gradients.ts): plain
 * tf.conv2d gradients on wasm equal the cpu backend's stock ones, unsupported attributes throw, and
 * nothing leaks.
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  registerWasmConvGradients,
  wasmConv2DBackpropFilter,
  wasmConv2DBackpropInput,
} from '../../src/backend/wasm-conv-gradients.js';

type Pad = 'same' | 'valid';
interface Case {
  n: number;
  h: number;
  w: number;
  cIn: number;
  cOut: number;
  k: number;
  pad: Pad;
  seed: number;
}

const U = 2 ** -24; // float32 unit roundoff

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmConvGradients();
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** Inputs as plain arrays (made on cpu), so both backends get the very same numbers. */
const data = async (c: Case): Promise<{ x: Float32Array; k: Float32Array; w: Float32Array; out: [number, number] }> => {
  await tf.setBackend('cpu');
  const out: [number, number] = c.pad === 'same' ? [c.h, c.w] : [c.h - c.k + 1, c.w - c.k + 1];
  const arr = (shape: number[], seed: number): Float32Array => tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array);
  return { x: arr([c.n, c.h, c.w, c.cIn], c.seed), k: arr([c.k, c.k, c.cIn, c.cOut], c.seed + 1), w: arr([c.n, ...out, c.cOut], c.seed + 2), out };
};

/** [d/dx, d/dkernel] of sum(conv2d(x, kernel) * w) on the active backend, read back. */
const grads = (c: Case, x: Float32Array, k: Float32Array, w: Float32Array, out: [number, number]): Float32Array[] =>
  tf.tidy(() => {
    const weights = tf.tensor4d(w, [c.n, ...out, c.cOut]);
    const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, c.pad), weights));
    return tf.grads(loss)([tf.tensor4d(x, [c.n, c.h, c.w, c.cIn]), tf.tensor4d(k, [c.k, c.k, c.cIn, c.cOut])]).map((g) => g.dataSync() as Float32Array);
  });

const abs = (a: Float32Array): Float32Array => a.map(Math.abs);

const cases = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    cIn: fc.integer({ min: 1, max: 5 }),
    cOut: fc.integer({ min: 1, max: 5 }),
    k: fc.constantFrom(1, 3, 5),
    pad: fc.constantFrom<Pad>('same', 'valid'),
    seed: fc.nat(1000),
  })
  // 'valid' needs the kernel to fit.
  .map((c) => (c.pad === 'valid' ? { ...c, h: Math.max(c.h, c.k), w: Math.max(c.w, c.k) } : c));

describe('wasm conv2d gradients', () => {
  it('registers Conv2DBackpropFilter and puts the faster Conv2DBackpropInput in front of wasm\'s own; idempotent', () => {
    registerWasmConvGradients();
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')?.kernelFunc).toBe(wasmConv2DBackpropFilter.kernelFunc);
    const input = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
    expect(input).toBeDefined();
    registerWasmConvGradients();
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')).toBe(input);
  });

  it('strided input gradients, which ours does not handle, still go to wasm\'s own kernel and match cpu', async () => {
    const x = tf.randomNormal([2, 7, 7, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const kernel = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const dx = (): Float32Array => tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.conv2d(v as tf.Tensor4D, kernel, 2, 'same'))))(x).dataSync() as Float32Array);
    await tf.setBackend('cpu');
    const ref = dx();
    await tf.setBackend('wasm');
    const got = dx();
    // Sums of at most 3*3*4 = 36 products, entries of O(50): 1e-3 absolute is some 250 ulps of slack.
    got.forEach((v, i) => expect(Math.abs(v - (ref[i] as number))).toBeLessThan(1e-3));
    tf.dispose([x, kernel]);
  });

  // Each gradient entry is a float32 sum of T products (d/dkernel: T = N*outH*outW <= 243; d/dx:
  // T <= k*k*cOut = 125). Any summation order errs by at most about T*u*sum|terms| (u = 2^-24), so two
  // implementations differ by at most 2*T*u*sum|terms|; sum|terms| per entry is the same gradient taken
  // with |x|, |kernel|, |w|. A wrong gradient is off by O(|g|), far outside this bound.
  it('equal the cpu backend\'s within 2*T*u*sum|terms| per entry (generated shapes, same/valid, k = 1/3/5)', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const { x, k, w, out } = await data(c);
        const ref = grads(c, x, k, w, out);
        const scale = grads(c, abs(x), abs(k), abs(w), out);
        await tf.setBackend('wasm');
        const got = grads(c, x, k, w, out);
        const terms = [c.k * c.k * c.cOut, c.n * out[0] * out[1]];
        got.forEach((g, i) => {
          const r = ref[i] as Float32Array;
          const s = scale[i] as Float32Array;
          const t = terms[i] as number;
          expect(g.length).toBe(r.length);
          g.forEach((v, j) => {
            const tol = 2 * t * U * (s[j] as number);
            if (!(Math.abs(v - (r[j] as number)) <= tol)) {
              throw new Error(`${i === 0 ? 'd/dx' : 'd/dkernel'}[${j}]: wasm ${v} vs cpu ${r[j]} (tol ${tol}) for ${JSON.stringify(c)}`);
            }
          });
        });
      }),
      { numRuns: 40 },
    );
    await tf.setBackend('wasm');
  });

  it('the composed Conv2DBackpropInput, called directly, is right too', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const { x, k, w, out } = await data(c);
        const ref = grads(c, x, k, w, out)[0] as Float32Array;
        const scale = grads(c, abs(x), abs(k), abs(w), out)[0] as Float32Array;
        await tf.setBackend('wasm');
        const got = tf.tidy(() => {
          const attrs = { strides: 1, pad: c.pad, dataFormat: 'NHWC', inputShape: [c.n, c.h, c.w, c.cIn] };
          const inputs = { dy: tf.tensor4d(w, [c.n, ...out, c.cOut]), filter: tf.tensor4d(k, [c.k, c.k, c.cIn, c.cOut]) };
          const info = wasmConv2DBackpropInput.kernelFunc({ inputs, attrs, backend: tf.backend() }) as TensorInfo;
          return tf.engine().makeTensorFromTensorInfo(info).dataSync() as Float32Array;
        });
        const t = c.k * c.k * c.cOut;
        got.forEach((v, j) => expect(Math.abs(v - (ref[j] as number))).toBeLessThanOrEqual(2 * t * U * (scale[j] as number)));
      }),
      { numRuns: 15 },
    );
    await tf.setBackend('wasm');
  });

  it('unsupported attributes throw an error naming them', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1, 6, 6, 2]) as tf.Tensor4D;
    const kernel = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
    expect(() => tf.grad((k: tf.Tensor) => tf.sum(tf.conv2d(x, k as tf.Tensor4D, 2, 'same')))(kernel)).toThrow(
      /Conv2DBackpropFilter on the wasm backend supports only strides 1 \(got strides 2\)/,
    );
    const dy = tf.ones([1, 2, 6, 6]);
    const nchw = { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2] };
    expect(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: tf.ones([1, 2, 6, 6]), dy }, nchw)).toThrow(/supports only dataFormat 'NHWC'/);
    tf.dispose([x, kernel, dy]);
  });

  it('leaks nothing: tensor count and bytes are flat over repeated gradient calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const kernel = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const step = (): void => {
      const gs = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))))([x, kernel]);
      gs.forEach((g) => g.dataSync());
      tf.dispose(gs);
    };
    step();
    const before = tf.memory();
    for (let i = 0; i < 10; i++) step();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    // Inputs given as bare TensorInfos (not Tensor objects) are borrowed with their own reference and
    // not freed: they stay readable after the kernel ran.
    const info = (t: tf.Tensor): TensorInfo => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
    const dy = tf.ones([2, 8, 8, 4]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] };
    const mid = tf.memory().numTensors;
    const out = wasmConv2DBackpropFilter.kernelFunc({ inputs: { x: info(x), dy: info(dy) }, attrs, backend: tf.backend() }) as TensorInfo;
    const result = tf.engine().makeTensorFromTensorInfo(out);
    expect(result.shape).toEqual([3, 3, 3, 4]);
    result.dispose();
    expect(tf.memory().numTensors).toBe(mid);
    expect(x.dataSync().length).toBe(2 * 8 * 8 * 3);
    expect(dy.dataSync().length).toBe(2 * 8 * 8 * 4);
    tf.dispose([x, kernel, dy]);
  });
});
