/** Training utilities: the CAFLOW schedule, Adam, clipping, trainStep, NaNGuard and tensor hygiene. */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { disposeParams, flattenParams, type ParamTree } from '../../src/dsl/params.js';
import { caflowSchedule, learningRate, learningRateSchedule } from '../../src/training/schedule.js';
import { adamUpdate, adamUpdateFlat, createAdamState, setFusedAdam, type AdamState } from '../../src/training/adam.js';
import { hasAdamKernel } from '../../src/training/adam-kernel.js';
import '@tensorflow/tfjs-backend-wasm';
import { clipByGlobalNorm, flatGradients, globalNorm } from '../../src/training/clip.js';
import { disposeReplaced, NaNGuard, trainablePaths, trainStep, TrainingDivergedError } from '../../src/training/step.js';

const num = (t: tf.Tensor): number => t.dataSync()[0] as number;
const leaf = (tree: ParamTree, path: string): tf.Tensor => {
  const t = flattenParams(tree).find(([p]) => p === path)?.[1];
  if (t === undefined) throw new Error(`no ${path}`);
  return t;
};
const disposeState = (s: AdamState): void => {
  disposeParams(s.m);
  disposeParams(s.v);
};

describe('learningRate (CAFLOW schedule)', () => {
  const opts = { ...caflowSchedule, stepsPerEpoch: 1000 };

  it('warms up linearly from base/warmup at step 1 to base at step warmup', () => {
    expect(learningRate(1, opts)).toBeCloseTo(1e-3 / 500, 15);
    expect(learningRate(250, opts)).toBeCloseTo(0.5e-3, 15);
    expect(learningRate(500, opts)).toBe(1e-3);
    expect(learningRate(999, opts)).toBe(1e-3);
  });

  it('decays by decayPerEpoch per completed epoch', () => {
    expect(learningRate(1000, opts)).toBeCloseTo(1e-3 * 0.999, 15);
    expect(learningRate(5500, opts)).toBeCloseTo(1e-3 * 0.999 ** 5, 15);
    // Warm-up and decay compose when an epoch ends inside the warm-up.
    expect(learningRate(300, { ...opts, stepsPerEpoch: 100 })).toBeCloseTo(1e-3 * (300 / 500) * 0.999 ** 3, 15);
  });

  it('applies the factor of the last milestone passed (factors replace, not compound)', () => {
    expect(learningRate(69_999, opts)).toBeCloseTo(1e-3 * 0.999 ** 69, 15);
    expect(learningRate(70_000, opts)).toBeCloseTo(1e-3 * 0.999 ** 70 * 0.1, 15);
    expect(learningRate(139_999, opts)).toBeCloseTo(1e-3 * 0.999 ** 139 * 0.1, 15);
    expect(learningRate(140_000, opts)).toBeCloseTo(1e-3 * 0.999 ** 140 * 0.01, 15);
    expect(learningRate(200_000, opts)).toBeCloseTo(1e-3 * 0.999 ** 200 * 0.01, 15);
    // Order of the milestone list does not matter.
    const reversed = { ...opts, milestones: [...caflowSchedule.milestones].reverse() };
    expect(learningRate(150_000, reversed)).toBe(learningRate(150_000, opts));
  });

  it('uses the CAFLOW defaults when only stepsPerEpoch is given; bound schedules agree', () => {
    expect(learningRate(123_456, { stepsPerEpoch: 1000 })).toBe(learningRate(123_456, opts));
    expect(learningRateSchedule(opts)(777)).toBe(learningRate(777, opts));
    expect(learningRate(1, { stepsPerEpoch: 10, warmup: 0 })).toBe(1e-3);
  });

  it('rejects steps < 1 and invalid options', () => {
    expect(() => learningRate(0, opts)).toThrow(RangeError);
    expect(() => learningRate(1.5, opts)).toThrow(RangeError);
    expect(() => learningRate(1, { stepsPerEpoch: 0 })).toThrow(/stepsPerEpoch/);
    expect(() => learningRate(1, { stepsPerEpoch: 1, milestones: [{ step: 1, factor: 0 }] })).toThrow(/factor/);
  });

  it('property: 0 < lr <= base for every step, and warm-up is monotone', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 10, max: 100_000 }),
        fc.double({ min: 1e-6, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 5000 }),
        (step, stepsPerEpoch, base, warmup) => {
          const o = { stepsPerEpoch, base, warmup };
          const lr = learningRate(step, o);
          expect(lr).toBeGreaterThan(0);
          expect(lr).toBeLessThanOrEqual(base);
          if (step < warmup && Math.floor(step / stepsPerEpoch) === Math.floor((step + 1) / stepsPerEpoch)) {
            expect(learningRate(step + 1, o)).toBeGreaterThan(lr);
          }
        },
      ),
    );
  });
});

describe('adamUpdate', () => {
  it('matches a hand-computed update for two steps on a scalar', () => {
    // p0 = 1, lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-8.
    // t=1, g=0.5:  m = 0.05, v = 0.00025, m^ = 0.05/0.1 = 0.5, v^ = 0.00025/0.001 = 0.25,
    //              p1 = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002
    // t=2, g=-0.2: m = 0.045 - 0.02 = 0.025, v = 0.00024975 + 0.00004 = 0.00028975,
    //              m^ = 0.025/0.19 = 0.131578947..., v^ = 0.00028975/0.001999 = 0.144947473...,
    //              p2 = 0.9 - 0.1 * 0.131578947 / (0.380719689 + 1e-8) = 0.865439418
    const p0 = { w: tf.scalar(1) };
    const s0 = createAdamState(p0);
    const g1 = { w: tf.scalar(0.5) };
    const g2 = { w: tf.scalar(-0.2) };
    const r1 = adamUpdate(p0, g1, s0, { lr: 0.1 });
    expect(r1.state.step).toBe(1);
    expect(num(leaf(r1.params, 'w'))).toBeCloseTo(0.900000002, 6);
    expect(num(leaf(r1.state.m, 'w'))).toBeCloseTo(0.05, 7);
    expect(num(leaf(r1.state.v, 'w'))).toBeCloseTo(0.00025, 9);
    const r2 = adamUpdate(r1.params, g2, r1.state, { lr: 0.1 });
    expect(r2.state.step).toBe(2);
    expect(num(leaf(r2.params, 'w'))).toBeCloseTo(0.865439418, 6);
    expect(num(leaf(r2.state.m, 'w'))).toBeCloseTo(0.025, 7);
    expect(num(leaf(r2.state.v, 'w'))).toBeCloseTo(0.00028975, 9);
    // Pure: the inputs are untouched and alive.
    expect(num(leaf(p0, 'w'))).toBe(1);
    expect(num(leaf(s0.m, 'w'))).toBe(0);
    for (const t of [p0, g1, g2, r1.params, r2.params]) disposeParams(t);
    for (const s of [s0, r1.state, r2.state]) disposeState(s);
  });

  it('carries frozen parameters (and their moments) over as the same tensors', () => {
    const params = { a: tf.tensor1d([1, 2]), frozen: tf.tensor1d([5]) };
    const state = createAdamState(params);
    const grads = new Map([
      ['a', tf.tensor1d([1, -1])],
      ['frozen', tf.tensor1d([1])],
    ]);
    const byPredicate = adamUpdate(params, grads, state, { lr: 0.1, trainable: (p) => p !== 'frozen' });
    const bySet = adamUpdate(params, grads, state, { lr: 0.1, trainable: new Set(['a']) });
    for (const r of [byPredicate, bySet]) {
      expect(leaf(r.params, 'frozen')).toBe(params.frozen);
      expect(leaf(r.state.m, 'frozen')).toBe(leaf(state.m, 'frozen'));
      expect(Array.from(leaf(r.params, 'a').dataSync())).toEqual([expect.closeTo(0.9, 5), expect.closeTo(2.1, 5)]);
    }
    // Default: trainable = the parameters that have a gradient.
    const partial = adamUpdate(params, { a: grads.get('a') as tf.Tensor }, state, { lr: 0.1 });
    expect(leaf(partial.params, 'frozen')).toBe(params.frozen);
    // A trainable parameter without a gradient, or a mis-shaped one, is an error naming the path.
    expect(() => adamUpdate(params, { a: grads.get('a') as tf.Tensor }, state, { lr: 0.1, trainable: new Set(['a', 'frozen']) })).toThrow(/'frozen'/);
    expect(() => adamUpdate(params, { a: tf.tensor1d([1]) }, state, { lr: 0.1 })).toThrow(/shape/);
    for (const r of [byPredicate, bySet, partial]) {
      disposeReplaced(params, r.params);
      disposeReplaced(state, r.state);
    }
    disposeParams(params);
    disposeState(state);
    for (const g of grads.values()) g.dispose();
  });
});

describe('adamUpdate on one vector', () => {
  /** The update written per tensor, op for op as adam.ts states it: the flat update must match it bitwise. */
  const referenceAdam = (p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, t: number, lr: number): tf.Tensor[] =>
    tf.tidy(() => {
      const mNew = tf.add(tf.mul(m, 0.9), tf.mul(g, 1 - 0.9));
      const vNew = tf.add(tf.mul(v, 0.999), tf.mul(tf.square(g), 1 - 0.999));
      const denom = tf.add(tf.sqrt(tf.div(vNew, 1 - 0.999 ** t)), 1e-8);
      return [tf.sub(p, tf.mul(tf.div(tf.div(mNew, 1 - 0.9 ** t), denom), lr)), mNew, vNew];
    });
  const shapes = fc.array(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 }), { minLength: 1, maxLength: 5 });

  it('property: as tensor ops (setFusedAdam(false)), adamUpdate and adamUpdateFlat equal the per-tensor update bitwise, over two steps', () => {
    setFusedAdam(false);
    fc.assert(
      fc.property(shapes, fc.integer({ min: 1, max: 1000 }), fc.double({ min: 1e-4, max: 1, noNaN: true }), (shapeList, seed, lr) => {
        const params: ParamTree = shapeList.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', seed + i));
        const g1: ParamTree = shapeList.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', seed + 100 + i));
        const g2: ParamTree = shapeList.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', seed + 200 + i));
        const s0 = createAdamState(params);
        const r1 = adamUpdate(params, g1, s0, { lr });
        const flat2 = flatGradients(flattenParams(g2).map(([, t]) => t));
        const r2 = adamUpdateFlat(r1.params, flat2, r1.state, { lr, trainable: () => true });
        const leaves = (tree: ParamTree): tf.Tensor[] => flattenParams(tree).map(([, t]) => t);
        leaves(params).forEach((p, i) => {
          const [p1, m1, v1] = referenceAdam(p, leaves(g1)[i] as tf.Tensor, tf.zerosLike(p), tf.zerosLike(p), 1, lr) as [tf.Tensor, tf.Tensor, tf.Tensor];
          const [p2, m2, v2] = referenceAdam(p1, leaves(g2)[i] as tf.Tensor, m1, v1, 2, lr) as [tf.Tensor, tf.Tensor, tf.Tensor];
          expect(Array.from(leaf(r2.params, String(i)).dataSync())).toEqual(Array.from(p2.dataSync()));
          expect(Array.from(leaf(r2.state.m, String(i)).dataSync())).toEqual(Array.from(m2.dataSync()));
          expect(Array.from(leaf(r2.state.v, String(i)).dataSync())).toEqual(Array.from(v2.dataSync()));
          tf.dispose([p1, m1, v1, p2, m2, v2]);
        });
        for (const t of [params, g1, g2, r1.params, r2.params]) disposeParams(t);
        for (const s of [s0, r1.state, r2.state]) disposeState(s);
        flat2.dispose();
      }),
      { numRuns: 25 },
    );
    setFusedAdam(true);
  });

  // The fused kernel rounds m' and v' once each (the ops: 3 and 4 roundings) and folds lr / c1 and 1 / c2,
  // so it may differ from the ops by a few float32 roundings (u = 2^-24): m' and v' by at most 4u of
  // their terms' magnitudes. The step d = p - p' inherits m's and v's differences (up to 4u + 2u) and
  // the ops path rounds it about 7 more times (/c1, /c2, sqrt, +eps, /, *lr) against the kernel's 1:
  // up to ~18u of |d| in all, plus one rounding of p' on each side (2u |p'|).
  // The constants differ too: the ops multiply by float32 0.9 and 0.1 (each within u/2 of the true
  // value), the kernel may fold them in float64, which adds up to u of the terms on top of the
  // roundings (4u), so m' and v' may differ by 5u of their terms; the bound is 2^-21 (= 8u).
  // (4u was too tight: a run of the full suite found |m' - m'_ref| = 1.25 * 2^-27 against a 4u bound
  // of 8.7e-9, for terms of magnitude 0.036.)
  // Tolerances: 2^-21 (= 8u) of the terms for m', v'; 2^-22 |p'| + 2^-19 (= 32u) |d| for p'. (16u of
  // |d| was too tight: a 600-case run found cases a few percent over it.)
  it.each(['cpu', 'wasm'])('property: on %s, the fused kernel matches the per-tensor ops within a few float32 roundings', async (backend) => {
    await tf.setBackend(backend);
    expect(hasAdamKernel()).toBe(true);
    await fc.assert(
      fc.asyncProperty(shapes, fc.integer({ min: 1, max: 1000 }), fc.double({ min: 1e-4, max: 1, noNaN: true }), fc.integer({ min: 0, max: 100 }), async (shapeList, seed, lr, step) => {
        const leaves = (tree: ParamTree): tf.Tensor[] => flattenParams(tree).map(([, t]) => t);
        const params: ParamTree = shapeList.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', seed + i));
        const grads: ParamTree = shapeList.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', seed + 100 + i));
        const state: AdamState = {
          step,
          m: shapeList.map((s, i) => tf.randomNormal(s, 0, 0.1, 'float32', seed + 200 + i)),
          v: shapeList.map((s, i) => tf.randomUniform(s, 0, 0.01, 'float32', seed + 300 + i)),
        };
        const r = adamUpdate(params, grads, state, { lr });
        leaves(params).forEach((p, i) => {
          const [g, m, v] = [leaves(grads)[i], leaves(state.m)[i], leaves(state.v)[i]] as [tf.Tensor, tf.Tensor, tf.Tensor];
          const [pRef, mRef, vRef] = referenceAdam(p, g, m, v, step + 1, lr).map((t) => Array.from(t.dataSync())) as [number[], number[], number[]];
          const [p0, g0, m0, v0] = [p, g, m, v].map((t) => Array.from(t.dataSync())) as [number[], number[], number[], number[]];
          const [pGot, mGot, vGot] = [r.params, r.state.m, r.state.v].map((tree) => Array.from(leaf(tree, String(i)).dataSync())) as [number[], number[], number[]];
          pRef.forEach((_, j) => {
            const [gj, mj, vj, pj] = [g0[j], m0[j], v0[j], p0[j]] as [number, number, number, number];
            expect(Math.abs((mGot[j] as number) - (mRef[j] as number))).toBeLessThanOrEqual(2 ** -21 * (0.9 * Math.abs(mj) + 0.1 * Math.abs(gj)));
            expect(Math.abs((vGot[j] as number) - (vRef[j] as number))).toBeLessThanOrEqual(2 ** -21 * (0.999 * vj + 0.001 * gj * gj));
            const d = Math.abs(pj - (pRef[j] as number));
            expect(Math.abs((pGot[j] as number) - (pRef[j] as number))).toBeLessThanOrEqual(2 ** -22 * Math.abs(pRef[j] as number) + 2 ** -19 * d);
          });
        });
        for (const t of [params, grads, r.params]) disposeParams(t);
        for (const st of [state, r.state]) disposeState(st);
      }),
      { numRuns: 30 },
    );
    await tf.setBackend('cpu');
  });

  it('adamUpdateFlat rejects a vector whose length is not the trainable parameters\' total size', () => {
    const params = { a: tf.tensor1d([1, 2]), b: tf.tensor2d([[1, 2, 3]]) };
    const state = createAdamState(params);
    const short = tf.zeros([4]) as tf.Tensor1D;
    expect(() => adamUpdateFlat(params, short, state, { lr: 0.1, trainable: () => true })).toThrow(/shape \[4\], expected \[5\]/);
    // With only 'b' trainable the vector must hold 3 entries.
    expect(() => adamUpdateFlat(params, short, state, { lr: 0.1, trainable: new Set(['b']) })).toThrow(/expected \[3\]/);
    const three = tf.ones([3]) as tf.Tensor1D;
    const r = adamUpdateFlat(params, three, state, { lr: 0.1, trainable: new Set(['b']) });
    expect(leaf(r.params, 'a')).toBe(params.a);
    three.dispose();
    disposeReplaced(params, r.params);
    disposeReplaced(state, r.state);
    disposeParams(params);
    disposeState(state);
    short.dispose();
  });
});

describe('clipping', () => {
  const valuesArb = fc.array(fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 6 }), {
    minLength: 1,
    maxLength: 4,
  });

  it('property: the clipped norm is min(norm, maxNorm) and directions are kept', () => {
    fc.assert(
      fc.property(valuesArb, fc.double({ min: 0.01, max: 500, noNaN: true }), (arrays, maxNorm) => {
        const before = tf.memory().numTensors;
        const grads = arrays.map((a) => tf.tensor1d(a));
        const exact = Math.sqrt(arrays.flat().reduce((s, x) => s + Math.fround(x) ** 2, 0));
        const n = globalNorm(grads);
        expect(num(n)).toBeCloseTo(exact, Math.max(0, 4 - Math.ceil(Math.log10(exact + 1))));
        const { grads: clipped, norm } = clipByGlobalNorm(grads, maxNorm);
        const after = globalNorm(clipped);
        const want = Math.min(exact, maxNorm);
        expect(Math.abs(num(after) - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, want));
        expect(num(norm)).toBeCloseTo(num(n), 3);
        // Scaling by one positive factor: each gradient keeps its direction.
        const scale = Math.min(1, maxNorm / exact);
        flattenParams(clipped).forEach(([, c], i) =>
          Array.from(c.dataSync()).forEach((x, j) => expect(Math.abs(x - Math.fround(arrays[i]![j]!) * scale)).toBeLessThan(1e-4 * Math.max(1, maxNorm))),
        );
        for (const t of [...grads, n, norm, after]) t.dispose();
        disposeParams(clipped);
        expect(tf.memory().numTensors).toBe(before);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps the container kind (map in, map out) and the zero-gradient case', () => {
    const m = new Map([['x', tf.tensor1d([3, 4])]]);
    const { grads, norm } = clipByGlobalNorm(m, 1);
    expect(grads).toBeInstanceOf(Map);
    expect(num(norm)).toBeCloseTo(5, 5);
    expect(Array.from((grads.get('x') as tf.Tensor).dataSync())).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    const z = { z: tf.zeros([3]) };
    const zc = clipByGlobalNorm(z, 1);
    expect(Array.from(leaf(zc.grads, 'z').dataSync())).toEqual([0, 0, 0]);
    for (const t of [...m.values(), ...grads.values(), norm, zc.norm]) t.dispose();
    disposeParams(z);
    disposeParams(zc.grads);
    expect(() => clipByGlobalNorm(m, 0)).toThrow(RangeError);
  });
});

describe('trainStep', () => {
  const xs = Array.from({ length: 32 }, (_, i) => -1 + (2 * i) / 31);
  const mse =
    (x: tf.Tensor1D, y: tf.Tensor1D) =>
    (p: ParamTree): tf.Scalar =>
      tf.tidy(() => tf.mean(tf.square(tf.sub(tf.add(tf.mul(leaf(p, 'w'), x), leaf(p, 'b')), y))));

  it('fits y = 3x + 1 to a loss below 1e-3', () => {
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(xs.map((v) => 3 * v + 1));
    let params: ParamTree = { w: tf.scalar(0), b: tf.scalar(0) };
    let state = createAdamState(params);
    const trainable = new Set(['w', 'b']);
    let loss = Infinity;
    let first = NaN;
    for (let i = 0; i < 400 && loss >= 1e-3; i++) {
      const r = trainStep(mse(x, y), params, state, { lr: 0.05, trainable });
      if (i === 0) first = r.loss;
      expect(r.skipped).toBe(false);
      disposeReplaced(params, r.params);
      disposeReplaced(state, r.state);
      ({ params, state } = r);
      loss = num(tf.tidy(() => mse(x, y)(params)));
    }
    expect(first).toBeGreaterThan(1);
    expect(loss).toBeLessThan(1e-3);
    expect(num(leaf(params, 'w'))).toBeCloseTo(3, 1);
    expect(num(leaf(params, 'b'))).toBeCloseTo(1, 1);
    disposeParams(params);
    disposeState(state);
    x.dispose();
    y.dispose();
  });

  it('property: equals clipByGlobalNorm then adamUpdate bitwise (one clipped vector is the same arithmetic)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(0.05, 1, Infinity), (seed, clipNorm) => {
        const params = { w: tf.randomNormal([3, 2], 0, 1, 'float32', seed), b: tf.randomNormal([2], 0, 1, 'float32', seed + 1), frozen: tf.scalar(2) };
        const x = tf.randomNormal([5, 3], 0, 1, 'float32', seed + 2);
        const lossFn = (p: ParamTree): tf.Scalar =>
          tf.sum(tf.square(tf.mul(tf.add(tf.matMul(x, leaf(p, 'w')), leaf(p, 'b')), leaf(p, 'frozen')))) as tf.Scalar;
        const state = createAdamState(params);
        const trainable = new Set(['w', 'b']);
        const r = trainStep(lossFn, params, state, { lr: 0.01, trainable, clipNorm });
        const raw = tf.grads((w: tf.Tensor, b: tf.Tensor) => lossFn({ w, b, frozen: params.frozen }))([params.w, params.b]);
        const { grads, norm } = clipByGlobalNorm(new Map([['w', raw[0] as tf.Tensor], ['b', raw[1] as tf.Tensor]]), clipNorm);
        const expected = adamUpdate(params, grads, state, { lr: 0.01, trainable });
        expect(r.gradNorm).toBe(num(norm));
        for (const path of ['w', 'b']) expect(Array.from(leaf(r.params, path).dataSync())).toEqual(Array.from(leaf(expected.params, path).dataSync()));
        for (const rr of [r, expected]) {
          disposeReplaced(params, rr.params);
          disposeReplaced(state, rr.state);
        }
        disposeParams(params);
        disposeState(state);
        tf.dispose([x, norm, ...raw, ...grads.values()]);
      }),
      { numRuns: 20 },
    );
  });

  it('clips the gradient (reports the pre-clip norm) and trains only the trainable set', () => {
    const params = { w: tf.scalar(0), b: tf.scalar(7) };
    const state = createAdamState(params);
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(xs.map((v) => 30 * v));
    const r = trainStep(mse(x, y), params, state, { lr: 0.1, trainable: new Set(['w']), clipNorm: 1 });
    expect(r.gradNorm).toBeGreaterThan(1);
    expect(r.params.constructor).toBe(Object);
    expect(leaf(r.params, 'b')).toBe(params.b);
    expect(num(leaf(r.params, 'w'))).toBeCloseTo(0.1, 5); // Adam's first step: lr * sign(g)
    expect(r.state.step).toBe(1);
    // A schedule as lr is called with the 1-based Adam step.
    const seen: number[] = [];
    const r2 = trainStep(mse(x, y), r.params, r.state, { lr: (s) => (seen.push(s), 0.1), trainable: new Set(['w']) });
    expect(seen).toEqual([2]);
    expect(() => trainStep(mse(x, y), params, state, { lr: 0.1, trainable: new Set(['nope']) })).toThrow(/nope/);
    expect(() => trainStep(mse(x, y), params, state, { lr: 0.1, trainable: new Set() })).toThrow(/no trainable/);
    const unused = { w: tf.scalar(0), b: tf.scalar(0), u: tf.scalar(0) };
    expect(() => trainStep(mse(x, y), unused, createAdamState(unused), { lr: 0.1, trainable: new Set(['w', 'u']) })).toThrow(/does not influence/);
    for (const rr of [r2, r]) {
      disposeReplaced(params, rr.params);
      disposeReplaced(state, rr.state);
    }
    disposeParams(params);
    disposeState(state);
    disposeParams(r.params);
    disposeState(r.state);
    x.dispose();
    y.dispose();
  });

  it('skips a step whose loss or gradient is not finite and leaves params bitwise identical', () => {
    const params = { w: tf.tensor1d([0.25, -1.5, 3]), b: tf.scalar(0) };
    const state = createAdamState(params);
    const before = flattenParams(params).map(([, t]) => Array.from(t.dataSync()));
    const beforeCount = tf.memory().numTensors;
    const nanLoss = (p: ParamTree): tf.Scalar => tf.add(tf.log(tf.scalar(-1)), tf.add(tf.sum(leaf(p, 'w')), leaf(p, 'b'))); // log(-1) = NaN
    const infGrad = (p: ParamTree): tf.Scalar => tf.add(tf.sum(leaf(p, 'w')), tf.sqrt(tf.abs(leaf(p, 'b')))); // d sqrt|b| at b = 0 is infinite
    for (const f of [nanLoss, infGrad]) {
      const r = trainStep(f, params, state, { lr: 0.1, trainable: new Set(['w', 'b']) });
      expect(r.skipped).toBe(true);
      expect(r.params).toBe(params);
      expect(r.state).toBe(state);
      expect(Number.isFinite(r.loss) && Number.isFinite(r.gradNorm)).toBe(false);
      expect(disposeReplaced(params, r.params)).toBe(0);
    }
    expect(flattenParams(params).map(([, t]) => Array.from(t.dataSync()))).toEqual(before);
    expect(state.step).toBe(0);
    expect(tf.memory().numTensors).toBe(beforeCount);
    disposeParams(params);
    disposeState(state);
  });

  it('keeps tf.memory().numTensors flat across 20 steps when the caller disposes replaced trees', () => {
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(xs.map((v) => 3 * v + 1));
    let params: ParamTree = { w: tf.scalar(0), b: tf.scalar(0), frozen: { c: tf.tensor2d([[1, 2]]) } };
    let state = createAdamState(params);
    const trainable = new Set(['w', 'b']);
    const counts: number[] = [];
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      // Every 5th step is non-finite, to cover the skip path too.
      const f = i % 5 === 4 ? (p: ParamTree): tf.Scalar => tf.mul(mse(x, y)(p), NaN) : mse(x, y);
      const r = trainStep(f, params, state, { lr: 0.05, trainable });
      expect(r.skipped).toBe(i % 5 === 4);
      disposeReplaced(params, r.params);
      disposeReplaced(state, r.state);
      ({ params, state } = r);
      counts.push(tf.memory().numTensors);
    }
    expect(counts).toEqual(Array(20).fill(baseline));
    disposeParams(params);
    disposeState(state);
    x.dispose();
    y.dispose();
  });

  it('trainablePaths reads paramInfo', () => {
    expect(trainablePaths([
      { path: '0.logs', shape: [3], trainable: true, mixing: false },
      { path: '1.perm', shape: [3], trainable: false, mixing: false },
    ])).toEqual(new Set(['0.logs']));
  });
});

describe('NaNGuard', () => {
  it('throws after maxConsecutive skipped steps in a row, with the count, the last loss and a hint', () => {
    const guard = new NaNGuard({ maxConsecutive: 3 });
    guard.record({ skipped: true, loss: NaN, gradNorm: 1 });
    guard.record(true);
    expect(guard.consecutive).toBe(2);
    let error: unknown;
    try {
      guard.record({ skipped: true, loss: Infinity, gradNorm: NaN });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrainingDivergedError);
    const d = error as TrainingDivergedError;
    expect(d.consecutive).toBe(3);
    expect(d.lastLoss).toBe(Infinity);
    expect(d.message).toMatch(/3 steps in a row/);
    expect(d.message).toMatch(/last loss Infinity/);
    expect(d.message).toMatch(/lower learning rate/);
  });

  it('resets on a good step; defaults to 10', () => {
    const guard = new NaNGuard();
    expect(guard.maxConsecutive).toBe(10);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 9; i++) guard.record(true);
      guard.record({ skipped: false, loss: 1.5 });
      expect(guard.consecutive).toBe(0);
    }
    expect(guard.totalSkipped).toBe(27);
    for (let i = 0; i < 9; i++) guard.record(true);
    expect(() => guard.record(true)).toThrow(TrainingDivergedError);
    expect(() => new NaNGuard({ maxConsecutive: 0 })).toThrow(RangeError);
  });
});
