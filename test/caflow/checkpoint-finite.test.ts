/** A checkpoint with NaN or infinite weights is refused on loading, naming each such tensor. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { actnorm, chain, inv1x1 } from '../../src/dsl/index.js';
import { disposeParams, init, type ParamTree } from '../../src/interpreters/index.js';
import { CheckpointError, decodeCheckpoint, disposeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint.js';

const flow = chain(actnorm([3, 2, 2]), inv1x1([3, 2, 2]));

describe('non-finite weights', () => {
  it('loading names every tensor with NaN or infinity and how many values', async () => {
    const params = init(flow, { seed: 0 }) as ParamTree[];
    const weight = (params[1] as { weight: tf.Tensor }).weight;
    const logScale = tf.tensor1d([NaN, 0, NaN]);
    const badWeight = tf.tensor2d([1, 0, 0, 0, Infinity, 0, 0, 0, 1], [3, 3]);
    const bad: ParamTree = [{ ...(params[0] as Record<string, tf.Tensor>), logScale }, { weight: badWeight }];
    const bytes = await encodeCheckpoint({ spec: flow, params: bad, step: 3 });
    const before = tf.memory().numTensors;
    let error: unknown;
    try {
      decodeCheckpoint(bytes, { spec: flow });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheckpointError);
    const e = error as CheckpointError;
    expect(e.summary).toContain('non-finite values');
    expect(e.problems).toEqual(['params.0.logScale: 2 NaN of 3 values', 'params.1.weight: 1 infinite of 9 values']);
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(params);
    tf.dispose([logScale, badWeight]);
    expect(weight.isDisposed).toBe(true);
  });

  it('finite checkpoints still load', async () => {
    const params = init(flow, { seed: 0 });
    const ckpt = decodeCheckpoint(await encodeCheckpoint({ spec: flow, params, step: 1 }), { spec: flow });
    expect(ckpt.params.size).toBe(3);
    disposeCheckpoint(ckpt);
    disposeParams(params);
  });
});
