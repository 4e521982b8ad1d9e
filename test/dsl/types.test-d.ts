/**
 * Type-level tests, run by `npm test` (vitest's typecheck mode runs tsc over *.test-d.ts files; see
 * vitest.config.ts) and by `npm run typecheck`. An `expectTypeOf` that no longer holds fails its test,
 * and a `@ts-expect-error` line fails its test if the error it expects is gone, so each one proves the
 * compiler rejects that flow.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  actnorm,
  affine,
  affineCoupling,
  chain,
  concat,
  conditionalAffine,
  convNet,
  factorOut,
  flatten,
  inv1x1,
  inv1x1LU,
  invert,
  parallel,
  repeat,
  split,
  squeeze,
  unsqueeze,
  unflatten,
  type Flow,
  type Shape3,
} from '../../src/dsl/index.js';
import { forward, init } from '../../src/interpreters/index.js';
import * as tf from '@tensorflow/tfjs';

const step = <const S extends Shape3>(shape: S) =>
  chain(actnorm(shape), inv1x1(shape), affineCoupling(shape, { net: convNet({ hidden: 8 }) }));

describe('shapes at the type level', () => {
  it('squeeze computes [4C, H/2, W/2]', () => {
    expectTypeOf(squeeze([3, 32, 32])).toEqualTypeOf<Flow<readonly [readonly [3, 32, 32]], readonly [readonly [12, 16, 16]]>>();
    expectTypeOf(unsqueeze([12, 16, 16])).toEqualTypeOf<Flow<readonly [readonly [12, 16, 16]], readonly [readonly [3, 32, 32]]>>();
  });

  it('a Glow level chains squeeze and repeated steps', () => {
    const level = chain(squeeze([3, 32, 32]), repeat(step([12, 16, 16]), 8));
    expectTypeOf(level).toEqualTypeOf<Flow<readonly [readonly [3, 32, 32]], readonly [readonly [12, 16, 16]]>>();
  });

  it('four squeezes take [3,64,64] to [768,4,4]', () => {
    const f = chain(squeeze([3, 64, 64]), squeeze([12, 32, 32]), squeeze([48, 16, 16]), squeeze([192, 8, 8]));
    expectTypeOf(f).toEqualTypeOf<Flow<readonly [readonly [3, 64, 64]], readonly [readonly [768, 4, 4]]>>();
  });

  it('split, factorOut, concat and parallel track multiple outputs', () => {
    expectTypeOf(split([6, 4, 4])).toEqualTypeOf<Flow<readonly [readonly [6, 4, 4]], readonly [readonly [3, 4, 4], readonly [3, 4, 4]]>>();
    expectTypeOf(split([6, 4, 4], 2)).toEqualTypeOf<Flow<readonly [readonly [6, 4, 4]], readonly [readonly [2, 4, 4], readonly [4, 4, 4]]>>();
    expectTypeOf(concat([2, 4, 4], [3, 4, 4])).toEqualTypeOf<Flow<readonly [readonly [2, 4, 4], readonly [3, 4, 4]], readonly [readonly [5, 4, 4]]>>();
    const multiscale = chain(squeeze([3, 8, 8]), factorOut([12, 4, 4], chain(squeeze([6, 4, 4]), actnorm([24, 2, 2]))));
    expectTypeOf(multiscale).toEqualTypeOf<
      Flow<readonly [readonly [3, 8, 8]], readonly [readonly [6, 4, 4], readonly [24, 2, 2]]>
    >();
    const p = parallel(actnorm([2, 4, 4]), squeeze([1, 4, 4]));
    expectTypeOf(p).toEqualTypeOf<Flow<readonly [readonly [2, 4, 4], readonly [1, 4, 4]], readonly [readonly [2, 4, 4], readonly [4, 2, 2]]>>();
  });

  it('invert swaps input and output shapes', () => {
    expectTypeOf(invert(squeeze([3, 8, 8]))).toEqualTypeOf<Flow<readonly [readonly [12, 4, 4]], readonly [readonly [3, 8, 8]]>>();
  });

  it('conditioning is part of the type and merges through chains', () => {
    const c = chain(
      conditionalAffine([4, 4, 4], { cond: { d: [2, 4, 4] } }),
      affineCoupling([4, 4, 4], { cond: { l: [1, 4, 4] } }),
    );
    expectTypeOf(c).toEqualTypeOf<
      Flow<readonly [readonly [4, 4, 4]], readonly [readonly [4, 4, 4]], { readonly d: readonly [2, 4, 4]; readonly l: readonly [1, 4, 4] }>
    >();
  });

  it('dimensions known only at run time widen to number and still chain', () => {
    const c: number = 12;
    const f = chain(squeeze([3, 32, 32]), actnorm([c, 16, 16]));
    expectTypeOf(f).toEqualTypeOf<Flow<readonly [readonly [3, 32, 32]], readonly [readonly [number, 16, 16]]>>();
  });

  it('flatten gives [C*H*W] in the type, unflatten goes back', () => {
    expectTypeOf(flatten([3, 4, 4])).toEqualTypeOf<Flow<readonly [readonly [3, 4, 4]], readonly [readonly [48]]>>();
    expectTypeOf(chain(flatten([3, 4, 4]), actnorm([48]), unflatten([3, 4, 4]))).toEqualTypeOf<Flow<readonly [readonly [3, 4, 4]], readonly [readonly [3, 4, 4]]>>();
  });

  it('vector events [D] chain, split and concat like images', () => {
    expectTypeOf(chain(actnorm([4]), inv1x1([4]), affine([4]))).toEqualTypeOf<Flow<readonly [readonly [4]], readonly [readonly [4]]>>();
    expectTypeOf(split([6])).toEqualTypeOf<Flow<readonly [readonly [6]], readonly [readonly [3], readonly [3]]>>();
    expectTypeOf(concat([2], [3])).toEqualTypeOf<Flow<readonly [readonly [2], readonly [3]], readonly [readonly [5]]>>();
    const v = chain(actnorm([4]), inv1x1LU([4]));
    expectTypeOf(forward(v, init(v))).parameter(0).toEqualTypeOf<tf.Tensor2D | readonly [tf.Tensor2D]>();
    expectTypeOf(forward(v, init(v))).returns.toHaveProperty('y').toEqualTypeOf<tf.Tensor2D>();
  });

  it('interpreters take typed inputs and context', () => {
    const f = conditionalAffine([4, 2, 2], { cond: { d: [1, 2, 2] } });
    const run = forward(f, init(f));
    expectTypeOf(run).parameter(1).toEqualTypeOf<{ readonly d: tf.Tensor4D }>();
    expectTypeOf(run).returns.toHaveProperty('logDet').toEqualTypeOf<tf.Tensor1D>();
  });
});

describe('flows the compiler rejects', () => {
  it('rejects mismatched chains, odd squeezes and missing context', () => {
    const rejected = (): void => {
      // @ts-expect-error squeeze gives [12,16,16], the step takes [3,32,32]
      chain(squeeze([3, 32, 32]), step([3, 32, 32]));
      // @ts-expect-error the third step takes [3,8,8] but the second gives [12,4,4]
      chain(actnorm([3, 8, 8]), squeeze([3, 8, 8]), actnorm([3, 8, 8]));
      // @ts-expect-error squeeze needs an even height
      squeeze([3, 31, 32]);
      // @ts-expect-error unsqueeze needs channels divisible by 4
      unsqueeze([6, 4, 4]);
      // @ts-expect-error a repeated body must map its shape to itself
      repeat(squeeze([3, 8, 8]), 2);
      // @ts-expect-error two outputs do not feed a one-input step
      chain(split([4, 4, 4]), actnorm([2, 4, 4]));
      // @ts-expect-error a vector of 4 does not feed a step that takes 5
      chain(actnorm([4]), affine([5]));
      // @ts-expect-error a vector does not feed an image step
      chain(actnorm([12]), actnorm([3, 2, 2]));
      // @ts-expect-error squeeze takes images [C,H,W] only
      squeeze([4]);
      // @ts-expect-error flatten([3,4,4]) gives [48], not [47]
      chain(flatten([3, 4, 4]), actnorm([47]));
      const f = conditionalAffine([4, 2, 2], { cond: { d: [1, 2, 2] } });
      const x = tf.zeros([1, 2, 2, 4]) as tf.Tensor4D;
      // @ts-expect-error the conditioning input 'd' is required
      forward(f, init(f))(x);
      // @ts-expect-error a wrong conditioning name
      forward(f, init(f))(x, { e: x });
    };
    expectTypeOf(rejected).toBeFunction();
  });
});
