/** Unit facts of individual kernels that the generic flow laws do not pin down. */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actnorm, chain, inv1x1, inv1x1LU, logit, squeeze } from '../../src/dsl/index.js';
import { forward, init, inverse, flattenParams, type ParamRecord } from '../../src/interpreters/index.js';
import { logAbsDet } from '../../src/dsl/maths/channel-mix.js';
import { invert, luDecompose, matmul, randomOrthogonal, slogdet } from '../../src/dsl/maths/linalg.js';
import { seededRandom } from '../../src/dsl/random.js';

describe('linalg (float64)', () => {
  const matrixArb = fc.integer({ min: 1, max: 8 }).chain((n) =>
    fc.tuple(fc.constant(n), fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n * n, maxLength: n * n })),
  );

  it('A A^-1 = I for well-conditioned random matrices (tolerance 1e-9: float64 with n <= 8)', () => {
    fc.assert(
      fc.property(matrixArb, ([n, values]) => {
        const a = Float64Array.from(values.map((v, k) => v + (Math.floor(k / n) === k % n ? 10 : 0)));
        const product = matmul(a, invert(a, n), n);
        product.forEach((v, k) => expect(Math.abs(v - (Math.floor(k / n) === k % n ? 1 : 0))).toBeLessThan(1e-9));
      }),
    );
  });

  it('A^-1 A = A A^-1 = I when pivoting reorders rows (rows of a well-conditioned matrix shuffled; tolerance 1e-9)', () => {
    const shuffled = matrixArb.chain(([n, values]) => fc.tuple(fc.constant(n), fc.constant(values), fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })));
    fc.assert(
      fc.property(shuffled, ([n, values, order]) => {
        const base = values.map((v, k) => v + (Math.floor(k / n) === k % n ? 10 : 0));
        const a = new Float64Array(n * n);
        order.forEach((from, row) => a.set(base.slice(from * n, from * n + n), row * n));
        const inv = invert(a, n);
        for (const product of [matmul(a, inv, n), matmul(inv, a, n)]) {
          product.forEach((v, k) => expect(Math.abs(v - (Math.floor(k / n) === k % n ? 1 : 0))).toBeLessThan(1e-9));
        }
      }),
    );
  });

  it('slogdet matches the product of LU pivots and known determinants', () => {
    expect(slogdet([2, 0, 0, 3], 2)).toEqual({ sign: 1, logAbsDet: Math.log(6) });
    expect(slogdet([0, 1, 1, 0], 2).sign).toBe(-1);
    expect(slogdet([1, 2, 2, 4], 2)).toEqual({ sign: 0, logAbsDet: -Infinity });
    const { lu, parity } = luDecompose([4, 3, 6, 3], 2);
    expect(parity).toBe(-1);
    expect(Array.from(lu)).toEqual([6, 3, 4 / 6, 1]);
  });

  it('randomOrthogonal gives Q Q^T = I', () => {
    const n = 7;
    const q = randomOrthogonal(n, seededRandom(3));
    const qt = Float64Array.from({ length: n * n }, (_, k) => q[(k % n) * n + Math.floor(k / n)] as number);
    matmul(q, qt, n).forEach((v, k) => expect(Math.abs(v - (Math.floor(k / n) === k % n ? 1 : 0))).toBeLessThan(1e-12));
  });
});

describe('squeeze', () => {
  it("orders channels as PyTorch's pixel_unshuffle: out channel c*4 + 2*dy + dx", () => {
    // x[n, h, w, c] = 1000 c + 10 h + w, for C = 2, 4x4.
    const values = Array.from({ length: 4 * 4 * 2 }, (_, k) => {
      const c = k % 2;
      const w = Math.floor(k / 2) % 4;
      const h = Math.floor(k / 8);
      return 1000 * c + 10 * h + w;
    });
    const x = tf.tensor4d(values, [1, 4, 4, 2]);
    const f = squeeze([2, 4, 4]);
    const { y } = forward(f, init(f))(x);
    const out = y.arraySync()[0] as number[][][];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++)
        for (let c = 0; c < 2; c++)
          for (let dy = 0; dy < 2; dy++)
            for (let dx = 0; dx < 2; dx++) expect(out[i]?.[j]?.[c * 4 + 2 * dy + dx]).toBe(1000 * c + 10 * (2 * i + dy) + (2 * j + dx));
  });
});

describe('actnorm', () => {
  it('data-dependent init gives zero mean and unit variance per channel at its own input', () => {
    const flow = chain(squeeze([2, 4, 4]), actnorm([8, 2, 2]));
    const data = tf.add(tf.mul(tf.randomNormal([64, 4, 4, 2], 0, 1, 'float32', 5), 3), 7) as tf.Tensor4D;
    const params = init(flow, { data });
    const { y } = forward(flow, params)(data);
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    mean.dataSync().forEach((m) => expect(Math.abs(m)).toBeLessThan(1e-5));
    variance.dataSync().forEach((v) => expect(Math.abs(v - 1)).toBeLessThan(1e-4));
  });
});

describe('inv1x1', () => {
  it('log|det W| has the gradient W^-T (Jacobi), checked by central differences', () => {
    const w = tf.tensor2d([2, 1, 0.5, 0.3, 3, 0.2, 0.1, 0.4, 1.5], [3, 3]);
    const grad = tf.grad((m: tf.Tensor) => logAbsDet(m as tf.Tensor2D))(w).dataSync();
    const base = Array.from(w.dataSync());
    const h = 1e-3;
    base.forEach((_, k) => {
      const plus = [...base];
      const minus = [...base];
      plus[k] = (plus[k] as number) + h;
      minus[k] = (minus[k] as number) - h;
      const fd = (slogdet(plus, 3).logAbsDet - slogdet(minus, 3).logAbsDet) / (2 * h);
      expect(Math.abs((grad[k] as number) - fd)).toBeLessThan(1e-4);
    });
  });

  it('initialises W orthogonal, plain and LU-parametrised (log|det| = 0 at init)', () => {
    for (const f of [inv1x1([5, 2, 2]), inv1x1LU([5, 2, 2])]) {
      const x = tf.randomNormal([3, 2, 2, 5]) as tf.Tensor4D;
      const { y, logDet } = forward(f, init(f, { seed: 11 }))(x);
      logDet.dataSync().forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-5));
      // Orthogonal W preserves the norm at every pixel.
      const normX = tf.norm(x, 'euclidean', 3).dataSync();
      tf.norm(y, 'euclidean', 3).dataSync().forEach((v, i) => expect(Math.abs(v - (normX[i] as number))).toBeLessThan(1e-5));
    }
  });

  it('LU variant keeps the permutation and signs fixed and trains L, U, logS', () => {
    const f = inv1x1LU([4, 1, 1]);
    const names = flattenParams(init(f)).map(([p]) => p);
    expect(names.sort()).toEqual(['logS', 'lower', 'permutation', 'sign', 'upper']);
    const p = init(f) as ParamRecord;
    const perm = (p['permutation'] as tf.Tensor).arraySync() as number[][];
    perm.forEach((row) => expect(row.filter((v) => v === 1)).toHaveLength(1));
  });
});

describe('logit with dequantisation', () => {
  it('returns every 8-bit pixel exactly after the integer round trip (u = 0.5)', () => {
    const f = logit([3, 8, 8]);
    const pixels = tf.floor(tf.randomUniform([4, 8, 8, 3], 0, 256, 'float32', 2));
    const x = tf.add(pixels, 0.5) as tf.Tensor4D;
    const p = init(f);
    const { y } = forward(f, p)(x);
    const back = tf.floor(inverse(f, p)(y).x);
    expect(tf.sum(tf.notEqual(back, pixels)).dataSync()[0]).toBe(0);
    // The extremes, where logit is steepest.
    const edge = tf.tensor4d([0.5, 255.5], [1, 1, 2, 1]);
    const g = logit([1, 1, 2]);
    const edgeBack = inverse(g, init(g))(forward(g, init(g))(edge).y).x;
    expect(Array.from(tf.floor(edgeBack).dataSync())).toEqual([0, 255]);
  });
});
