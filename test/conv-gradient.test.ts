/**
 * conv2dSame's own gradient (built from a forward conv and a matMul) equals tfjs's stock conv2d
 * gradient on the cpu backend, for generated shapes, kernels and inputs.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rotate180 } from '../src/layers/conv-gradients.js';
import { conv2dSame } from '../src/layers/ops.js';

describe('conv2dSame gradient', () => {
  it('matches the stock Conv2DBackpropInput/Filter within 1e-4 (float32 sums of up to ~300 products)', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 1, max: 6 }),
          w: fc.integer({ min: 1, max: 6 }),
          cIn: fc.integer({ min: 1, max: 4 }),
          cOut: fc.integer({ min: 1, max: 4 }),
          k: fc.constantFrom(1, 3, 5),
          seed: fc.nat(1000),
        }),
        ({ n, h, w, cIn, cOut, k, seed }) => {
          tf.tidy(() => {
            const x = tf.randomNormal([n, h, w, cIn], 0, 1, 'float32', seed) as tf.Tensor4D;
            const kernel = tf.randomNormal([k, k, cIn, cOut], 0, 1, 'float32', seed + 1) as tf.Tensor4D;
            const bias = tf.zeros([cOut]) as tf.Tensor1D;
            const weights = tf.randomNormal([n, h, w, cOut], 0, 1, 'float32', seed + 2);
            const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv2dSame(a as tf.Tensor4D, b as tf.Tensor4D, bias), weights)))([x, kernel]);
            const stock = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), weights)))([x, kernel]);
            ours.forEach((g, i) => {
              const err = tf.max(tf.abs(tf.sub(g, stock[i] as tf.Tensor))).dataSync()[0] as number;
              expect(err).toBeLessThan(1e-4);
            });
            const fwd = tf.max(tf.abs(tf.sub(conv2dSame(x, kernel, bias), tf.conv2d(x, kernel, 1, 'same')))).dataSync()[0] as number;
            expect(fwd).toBe(0);
          });
        },
      ),
      { numRuns: 40 },
    );
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
});
