/** Bad specs, bad tensors and bad parameters give errors that say what is wrong and where. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { actnorm, affineCoupling, chainOf, conditionalAffine, convNet, ShapeMismatchError, SpecError, split, squeeze } from '../../src/dsl/index.js';
import { forward, init, ParamMismatchError, summary } from '../../src/interpreters/index.js';

describe('specs built at run time', () => {
  it('a chain whose shapes do not line up names the step', () => {
    const n: number = 3;
    expect(() => chainOf([squeeze([n, 8, 8]), actnorm([n, 8, 8])])).toThrow(SpecError);
    expect(() => chainOf([squeeze([n, 8, 8]), actnorm([n, 8, 8])])).toThrow(
      '$.steps[1]: expects input [3,8,8] but the previous step gives [12,4,4]',
    );
  });

  it('odd sizes, impossible splits and bad conditioning are rejected when built', () => {
    const h: number = 7;
    expect(() => squeeze([3, h, 8])).toThrow('$.shape: squeeze needs an even height and width, got [3,7,8]');
    expect(() => split([3, 4, 4], 3)).toThrow('$.at: cannot split 3 channels at 3');
    expect(() => split([3, 4, 4])).toThrow('pass the split point explicitly');
    expect(() => affineCoupling([1, 4, 4])).toThrow('a coupling needs at least 2 channels');
    expect(() => conditionalAffine([4, 4, 4], { cond: { d: [2, 2, 2] } })).toThrow(
      "$.cond.d: conditioning [2,2,2] must have the flowing tensor's height and width 4x4",
    );
    expect(() => affineCoupling([4, 4, 4], { net: convNet({ hidden: 0 }) })).toThrow('$.net.hidden');
  });
});

describe('tensors handed to a pass', () => {
  const flow = conditionalAffine([4, 2, 2], { cond: { d: [1, 2, 2] }, net: convNet({ hidden: 4 }) });
  const params = init(flow);

  it('a wrong input shape says what was expected in NHWC', () => {
    const x = tf.zeros([2, 4, 2, 2]) as tf.Tensor4D;
    expect(() => forward(flow, params)(x, { d: tf.zeros([2, 2, 2, 1]) })).toThrow(ShapeMismatchError);
    expect(() => forward(flow, params)(x, { d: tf.zeros([2, 2, 2, 1]) })).toThrow(
      'forward: tensor 0 has shape [2,4,2,2] but the flow expects [N,2,2,4] (NHWC for event [4,2,2])',
    );
  });

  it('missing or mis-shaped conditioning is named', () => {
    const x = tf.zeros([2, 2, 2, 4]) as tf.Tensor4D;
    const untyped = forward(flow, params) as unknown as (x: tf.Tensor4D, ctx: object) => unknown;
    expect(() => untyped(x, {})).toThrow("missing conditioning input 'd' ([1,2,2]); given: none");
    expect(() => forward(flow, params)(x, { d: tf.zeros([2, 2, 2, 3]) })).toThrow(
      "conditioning 'd' has shape [2,2,2,3] but the layer expects [2,2,2,1]",
    );
  });

  it('parameters that do not mirror the spec list every problem by path', () => {
    const other = init(conditionalAffine([4, 2, 2], { cond: { d: [1, 2, 2] }, net: convNet({ hidden: 5 }) }));
    expect(() => forward(flow, other)).toThrow(ParamMismatchError);
    expect(() => forward(flow, other)).toThrow('net.conv0.kernel: shape [3,3,1,5], expected [3,3,1,4]');
  });
});

describe('summary', () => {
  it('counts parameters of the coupling network exactly', () => {
    // convNet: 3x3 (c1 + cond -> h), 1x1 (h -> h), 3x3 (h -> 2 c2), each with a bias.
    const f = affineCoupling([4, 2, 2], { net: convNet({ hidden: 8 }), cond: { d: [3, 2, 2] } });
    const expected = 9 * 5 * 8 + 8 + 8 * 8 + 8 + 9 * 8 * 4 + 4;
    expect(summary(f)).toContain(`trainable parameters: ${expected.toLocaleString('en-US')}`);
  });
});
