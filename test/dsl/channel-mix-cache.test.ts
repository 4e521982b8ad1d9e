/**
 * The per-weight cache of inv1x1's float64 work (src/dsl/maths/channel-mix.ts): same numbers
 * as without it, the work runs once per weight tensor, and new, disposed or mutable tensors miss.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { chain, inv1x1, inv1x1LU } from '../../src/dsl/index.js';
import { forward, init, inverse, type ParamRecord } from '../../src/interpreters/index.js';
import { channelMixWork, inverseMatrix, logAbsDet, setChannelMixCache } from '../../src/dsl/maths/channel-mix.js';

const work = (): typeof channelMixWork => ({ ...channelMixWork });
const since = (before: typeof channelMixWork): typeof channelMixWork => ({
  reads: channelMixWork.reads - before.reads,
  factorisations: channelMixWork.factorisations - before.factorisations,
  slogdets: channelMixWork.slogdets - before.slogdets,
  inverses: channelMixWork.inverses - before.inverses,
});

afterEach(() => setChannelMixCache(true));

/** Forward once, then invert `k` times, with the same params: every output, read back. */
const roundTrips = (flow: ReturnType<typeof inv1x1> | ReturnType<typeof inv1x1LU>, params: ReturnType<typeof init>, k: number): number[][] =>
  tf.tidy(() => {
    const x = tf.randomNormal([2, 3, 3, 6], 0, 1, 'float32', 4) as tf.Tensor4D;
    const { y, logDet } = forward(flow, params)(x);
    const outs: tf.Tensor[] = [y, logDet];
    for (let i = 0; i < k; i++) {
      const back = inverse(flow, params)(y);
      outs.push(back.x, back.logDet);
    }
    return outs.map((t) => Array.from(t.dataSync()));
  });

describe('inv1x1 float64 cache', () => {
  for (const [name, flow] of [
    ['inv1x1', inv1x1([6, 3, 3])],
    ['inv1x1LU', inv1x1LU([6, 3, 3])],
  ] as const) {
    it(`${name}: forward + 4 inverses give bit-identical results with and without the cache`, () => {
      const params = init(flow, { seed: 3 });
      setChannelMixCache(false);
      const without = roundTrips(flow, params, 4);
      setChannelMixCache(true);
      expect(roundTrips(flow, params, 4)).toEqual(without);
    });
  }

  it('inv1x1: one read, one slogdet, one inverse for forward + 4 inverses of the same weight', () => {
    const flow = inv1x1([6, 3, 3]);
    const params = init(flow, { seed: 5 });
    const before = work();
    roundTrips(flow, params, 4);
    expect(since(before)).toEqual({ reads: 1, factorisations: 1, slogdets: 1, inverses: 1 });
    // Without the cache (the old behaviour): a slogdet per pass, an inverse per inverse pass, and each
    // of them reads W back from the backend on its own.
    setChannelMixCache(false);
    const off = work();
    roundTrips(flow, params, 4);
    expect(since(off)).toEqual({ reads: 9, factorisations: 9, slogdets: 5, inverses: 4 });
  });

  it('inv1x1LU: W is inverted once for repeated inverses with the same factor tensors', () => {
    const flow = chain(inv1x1LU([6, 3, 3]));
    const params = init(flow, { seed: 6 });
    const before = work();
    roundTrips(flow, params, 4);
    expect(since(before)).toEqual({ reads: 1, factorisations: 1, slogdets: 0, inverses: 1 });
  });

  it('a new weight tensor (as after a training step) misses; the gradient reuses the forward pass\'s work', () => {
    const w = tf.tensor2d([2, 1, 0.5, 0.3, 3, 0.2, 0.1, 0.4, 1.5], [3, 3]);
    const before = work();
    const g1 = tf.grad((m: tf.Tensor) => logAbsDet(m as tf.Tensor2D))(w);
    // One LU factorisation serves the log-det and the inverse of its gradient.
    expect(since(before)).toEqual({ reads: 1, factorisations: 1, slogdets: 1, inverses: 1 });
    const stepped = tf.add(w, 0) as tf.Tensor2D; // same values, new tensor
    const g2 = tf.grad((m: tf.Tensor) => logAbsDet(m as tf.Tensor2D))(stepped);
    expect(since(before)).toEqual({ reads: 2, factorisations: 2, slogdets: 2, inverses: 2 });
    expect(Array.from(g2.dataSync())).toEqual(Array.from(g1.dataSync()));
    // The gradient is W^-T, the same numbers as inverseMatrix's transpose, which now hits.
    expect(Array.from(tf.transpose(inverseMatrix(w)).dataSync())).toEqual(Array.from(g1.dataSync()));
    expect(since(before).inverses).toBe(2);
    tf.dispose([w, stepped, g1, g2]);
  });

  it('a disposed weight is not served from the cache (tfjs\'s own error), a Variable is never cached', () => {
    const w = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    inverseMatrix(w);
    w.dispose();
    expect(() => inverseMatrix(w)).toThrow(/disposed/);
    const v = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const first = Array.from(inverseMatrix(v).dataSync());
    v.assign(tf.tensor2d([2, 0, 0, 4], [2, 2]));
    const second = Array.from(inverseMatrix(v).dataSync());
    expect(first).toEqual([-2, 1, 1.5, -0.5]);
    expect(second).toEqual([0.5, 0, 0, 0.25]);
    v.dispose();
  });

  it('inv1x1LU: changing one factor tensor misses', () => {
    const flow = inv1x1LU([4, 1, 1]);
    const p = init(flow, { seed: 2 }) as ParamRecord;
    const y = tf.randomNormal([1, 1, 1, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    inverse(flow, p)(y);
    const before = work();
    const p2: ParamRecord = { ...p, upper: tf.mul(p['upper'] as tf.Tensor, 2) };
    const a = inverse(flow, p2)(y).x.dataSync();
    expect(since(before).inverses).toBe(1);
    setChannelMixCache(false);
    expect(Array.from(inverse(flow, p2)(y).x.dataSync())).toEqual(Array.from(a));
  });
});
