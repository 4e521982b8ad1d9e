/** The "Vector flows" examples of docs/guide.md, as written there: they build, and run on [N, 8]. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { actnorm, affineCoupling, batchNorm, chainOf, made, maskedAutoregressive, mlp, reverse } from '../../src/dsl/index.js';
import { disposeParams, forward, init, inverse } from '../../src/interpreters/index.js';

const realnvp = chainOf(
  Array.from({ length: 4 }, () => [
    actnorm([8]),
    affineCoupling([8], { net: mlp({ hidden: [64, 64], activation: 'relu' }) }),
    reverse([8]),
  ]).flat(),
);

const maf = chainOf([
  maskedAutoregressive([8], { net: made({ hidden: [64, 64], activation: 'tanh' }), cond: { label: [10] } }),
  batchNorm([8]),
  maskedAutoregressive([8], { transformer: 'spline', bins: 8, bound: 3, net: made({ hidden: [64, 64], order: 'random', seed: 1 }), cond: { label: [10] } }),
]);

describe('the guide\'s vector flows', () => {
  it.each([
    ['RealNVP', realnvp, {}],
    ['MAF', maf, { label: tf.oneHot(tf.tensor1d([1, 2, 3, 4], 'int32'), 10) }],
  ] as const)('%s starts as the identity (zero output layers) and round-trips', (_name, flow, ctx) => {
    const x = tf.randomNormal([4, 8], 0, 1, 'float32', 0);
    const params = init(flow, { seed: 0 });
    const f = forward(flow, params)([x], ctx as never);
    // Up to batchNorm's eps: a fresh one scales by 1/sqrt(1 + 1e-5).
    expect(tf.max(tf.abs(tf.sub(f.y, x))).dataSync()[0]).toBeLessThan(1e-4);
    const b = inverse(flow, params)([f.y], ctx as never);
    expect(tf.max(tf.abs(tf.sub(b.x, x))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, f.y, f.logDet, b.x, b.logDet]);
    disposeParams(params);
  });
});
