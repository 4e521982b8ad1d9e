/** Type-level tests of distributions: event shapes and conditioning come from the flow's type. */
import * as tf from '@tensorflow/tfjs';
import { describe, expectTypeOf, it } from 'vitest';
import { actnorm, affine, chain, conditionalAffine, squeeze } from '../../src/dsl/index.js';
import { logProb, sample, standardNormal, standardNormals, transformed, type Distribution, type EventOf } from '../../src/distributions/index.js';

declare const params: Parameters<typeof logProb>[1];

describe('distribution types', () => {
  it('a transformed distribution has the flow input as its event', () => {
    const dist = transformed(standardNormal([2]), chain(affine([2]), actnorm([2])));
    expectTypeOf(dist).toEqualTypeOf<Distribution<readonly [readonly [2]]>>();
    expectTypeOf(logProb(dist, params)).parameter(0).toEqualTypeOf<tf.Tensor2D | readonly [tf.Tensor2D]>();
    expectTypeOf(sample(dist, params)(4).x).toEqualTypeOf<tf.Tensor2D>();
    const image = transformed(standardNormal([12, 4, 4]), squeeze([3, 8, 8]));
    expectTypeOf<EventOf<typeof image>>().toEqualTypeOf<readonly [readonly [3, 8, 8]]>();
    expectTypeOf(sample(image, params)(4).x).toEqualTypeOf<tf.Tensor4D>();
  });

  it('the base must match the flow outputs', () => {
    // @ts-expect-error: the base is [3], the flow gives [2]
    transformed(standardNormal([3]), affine([2]));
    // @ts-expect-error: one base tensor for a flow with one output, not two
    transformed(standardNormals([[2], [2]]), affine([2]));
  });

  it('a conditional flow requires its context by name', () => {
    const dist = transformed(standardNormal([2, 2, 2]), conditionalAffine([2, 2, 2], { cond: { c: [1, 2, 2] } }));
    const x = tf.zeros([1, 2, 2, 2]) as tf.Tensor4D;
    const c = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    logProb(dist, params)(x, { c });
    // @ts-expect-error: the context is required
    logProb(dist, params)(x);
    // @ts-expect-error: the context is required when sampling too
    sample(dist, params)(1, { seed: 0 });
    sample(dist, params)(1, { seed: 0, ctx: { c } });
  });
});
