/**
 * conv2dSame's own gradient (built from a forward conv and a matMul) equals tfjs's stock conv2d
 * gradient on the cpu backend, for generated shapes, kernels and inputs.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { filterGradient1x1, filterGradientByConv, filterGradientPerTap, rotate180, samePadding } from '../../src/layers/conv-gradients.js';
import { conv2dSame } from '../../src/layers/ops.js';
import { registerWasmKernels } from '../../src/backend/wasm-kernels.js';
import '@tensorflow/tfjs-backend-wasm';

describe('conv2dSame gradient', () => {
  // On wasm the fused kernel is XNNPACK's; the stock conv gradients there are registerWasmKernels' own.
  it.each(['cpu', 'wasm'])('on %s, matches the stock gradients of activation(conv2d + bias) within 1e-4 (float32 sums of up to ~300 products)', async (backend) => {
    await tf.setBackend(backend);
    if (backend === 'wasm') registerWasmKernels();
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 1, max: 6 }),
          w: fc.integer({ min: 1, max: 6 }),
          cIn: fc.integer({ min: 1, max: 4 }),
          cOut: fc.integer({ min: 1, max: 4 }),
          k: fc.constantFrom(1, 3, 5),
          activation: fc.constantFrom<'linear' | 'relu'>('linear', 'relu'),
          seed: fc.nat(1000),
        }),
        ({ n, h, w, cIn, cOut, k, activation, seed }) => {
          tf.tidy(() => {
            const x = tf.randomNormal([n, h, w, cIn], 0, 1, 'float32', seed) as tf.Tensor4D;
            const kernel = tf.randomNormal([k, k, cIn, cOut], 0, 1, 'float32', seed + 1) as tf.Tensor4D;
            const bias = tf.randomNormal([cOut], 0, 1, 'float32', seed + 3) as tf.Tensor1D;
            const weights = tf.randomNormal([n, h, w, cOut], 0, 1, 'float32', seed + 2);
            const stockConv = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Tensor => {
              const pre = tf.add(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), c);
              return activation === 'relu' ? tf.relu(pre) : pre;
            };
            const ours = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(conv2dSame(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor1D, activation), weights)))([x, kernel, bias]);
            const stock = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(stockConv(a, b, c), weights)))([x, kernel, bias]);
            expect(ours.length).toBe(3);
            ours.forEach((g, i) => {
              const err = tf.max(tf.abs(tf.sub(g, stock[i] as tf.Tensor))).dataSync()[0] as number;
              expect(err).toBeLessThan(1e-4);
            });
            const fwd = tf.max(tf.abs(tf.sub(conv2dSame(x, kernel, bias, activation), stockConv(x, kernel, bias)))).dataSync()[0] as number;
            // cpu: the same ops in the same order. XNNPACK starts its sums from the bias, so on wasm they
            // round in another order: a few ulps of outputs below ~50 in size, far under 1e-5.
            expect(fwd).toBeLessThanOrEqual(backend === 'cpu' ? 0 : 1e-5);
          });
        },
      ),
      { numRuns: 40 },
    );
    await tf.setBackend('cpu');
  });

  it('rotate180 (a permutation product) is exactly tf.reverse over both spatial axes, square or not', () => {
    fc.assert(
      fc.property(
        fc.record({ kh: fc.integer({ min: 1, max: 5 }), kw: fc.integer({ min: 1, max: 5 }), cIn: fc.integer({ min: 1, max: 4 }), cOut: fc.integer({ min: 1, max: 4 }), seed: fc.integer({ min: 1, max: 1000 }) }),
        ({ kh, kw, cIn, cOut, seed }) => {
          tf.tidy(() => {
            const k = tf.randomNormal([kh, kw, cIn, cOut], 0, 1, 'float32', seed) as tf.Tensor4D;
            expect(Array.from(rotate180(k).dataSync())).toEqual(Array.from(tf.reverse(k, [0, 1]).dataSync()));
          });
        },
      ),
      { numRuns: 30 },
    );
  });

  // Both routes of convFilterGradient (the size picks one) against tfjs's stock Conv2DBackpropFilter on
  // cpu. Each entry sums N*outH*outW <= 2*7*7 = 98 products of N(0,1) values (|entry| ~ 10): 1e-3 leaves
  // room for the different summation orders (float32 error ~ 98 * 2^-24 * sum|terms| ~ 1e-4).
  it('every filter-gradient route equals the stock gradient (same and valid padding, up to 20 channels)', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }),
          h: fc.integer({ min: 3, max: 7 }),
          w: fc.integer({ min: 3, max: 7 }),
          cIn: fc.integer({ min: 1, max: 20 }),
          cOut: fc.integer({ min: 1, max: 5 }),
          k: fc.constantFrom(1, 3),
          same: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1000 }),
        }),
        ({ n, h, w, cIn, cOut, k, same, seed }) => {
          tf.tidy(() => {
            const x = tf.randomNormal([n, h, w, cIn], 0, 1, 'float32', seed) as tf.Tensor4D;
            const outH = same ? h : h - k + 1;
            const outW = same ? w : w - k + 1;
            const dy = tf.randomNormal([n, outH, outW, cOut], 0, 1, 'float32', seed + 1) as tf.Tensor4D;
            // The stock gradient: d/dK of sum(conv(x, K) * dy) is dK for upstream gradient dy (any K).
            const kernel = tf.zeros([k, k, cIn, cOut]) as tf.Tensor4D;
            const stock = tf.grad((kk: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, kk as tf.Tensor4D, 1, same ? 'same' : 'valid'), dy)))(kernel).dataSync();
            const pad = same ? samePadding(k) : { top: 0, bottom: 0, left: 0, right: 0 };
            const routes = [filterGradientPerTap, filterGradientByConv, ...(k === 1 ? [(a: tf.Tensor4D, b: tf.Tensor4D) => filterGradient1x1(a, b)] : [])];
            for (const route of routes) {
              const got = route(x, dy, [k, k, cIn, cOut], pad).dataSync();
              expect(got.length).toBe(stock.length);
              got.forEach((v, i) => expect(Math.abs(v - (stock[i] as number))).toBeLessThan(1e-3));
            }
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});
