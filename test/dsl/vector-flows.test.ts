/**
 * Vector flows (issue 12): MADE's autoregressive structure (autodiff Jacobians strictly triangular in
 * the order, on generated sizes, orders, widths and contexts), MAF's and IAF's triangular Jacobians,
 * the spline's linear tails outside the bound, D = 1, batch norm's training mode, and the codec of every
 * new kind (round trips, bad fields reported at their paths). The flow laws of each kind are in the
 * property table (test/dsl/properties.test.ts via test/support/arbitraries.ts).
 */
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { decodeSpec, encodeSpec } from '../../src/dsl/codec.js';
import {
  additiveCoupling,
  affineCoupling,
  batchNorm,
  chain,
  chainOf,
  conditionalAffine,
  inverseAutoregressive,
  made,
  maskedAutoregressive,
  mlp,
  scaleShift,
  softplus,
  splineCoupling,
  tanh,
  type AnyFlow,
  type FlowSpec,
  type MadeSpec,
} from '../../src/dsl/index.js';
import { applyNet, initNet, inputDegrees, madeOrder } from '../../src/layers/index.js';
import {
  batchNormTraining,
  denseJacobian,
  disposeParams,
  forward,
  init,
  inverse,
  perturbedParams,
  verifyFlow,
  type ParamRecord,
} from '../../src/interpreters/index.js';

const orderArb = (d: number): fc.Arbitrary<MadeSpec['order']> =>
  fc.oneof(fc.constant('natural' as const), fc.constant('random' as const), fc.shuffledSubarray([...Array(d).keys()], { minLength: d, maxLength: d }));

const madeArb = fc.integer({ min: 1, max: 7 }).chain((d) =>
  fc.record({
    d: fc.constant(d),
    net: fc
      .record({
        hidden: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 0, maxLength: 3 }),
        activation: fc.constantFrom('relu' as const, 'tanh' as const, 'elu' as const),
        order: orderArb(d),
        seed: fc.integer({ min: 0, max: 1000 }),
      })
      .map((o) => made(o)),
    m: fc.integer({ min: 1, max: 3 }),
    context: fc.integer({ min: 0, max: 2 }),
    seed: fc.integer({ min: 0, max: 1000 }),
  }),
);

/** Every entry of a params tree plus N(0, 0.5) noise (the zero output layer too). */
const noisy = (p: ParamRecord, seed: number): ParamRecord => {
  let k = 0;
  const walk = (t: unknown): unknown =>
    t instanceof tf.Tensor ? tf.add(t, tf.randomNormal(t.shape, 0, 0.5, 'float32', seed + k++)) : Object.fromEntries(Object.entries(t as object).map(([n, v]) => [n, walk(v)]));
  return walk(p) as ParamRecord;
};

describe('MADE', () => {
  it('the Jacobian of its outputs w.r.t. its inputs is strictly triangular in the order; context reaches every output', () => {
    fc.assert(
      fc.property(madeArb, ({ d, net, m, context, seed }) => {
        const cIn = d + context;
        const cOut = m * d;
        const jac = tf.tidy(() => {
          let s = seed;
          const params = noisy(initNet(net, cIn, cOut, () => s++), seed);
          // Row o of the Jacobian from copy o of the input: one backward pass.
          const x = tf.tile(tf.randomNormal([1, cIn], 0, 1, 'float32', seed), [cOut, 1]);
          const f = (xs: tf.Tensor) => tf.sum(tf.mul(applyNet(net, params, xs, d), tf.eye(cOut)));
          return tf.grad(f)(x).arraySync() as number[][];
        });
        const deg = inputDegrees(net, d);
        for (let o = 0; o < cOut; o++) {
          for (let i = 0; i < d; i++) {
            if ((deg[i] as number) >= (deg[o % d] as number)) expect(jac[o]?.[i], `d out${o} / d x${i}`).toBe(0);
          }
        }
        // Not vacuous: with smooth units and every degree present, every allowed input is seen.
        // (Degrees 1..D-1 in each hidden layer, and 0 too when there is context.)
        const dense = net.hidden.every((h) => h >= (context > 0 ? d : d - 1)) && net.activation !== 'relu';
        if (dense) {
          for (let o = 0; o < cOut; o++) {
            for (let i = 0; i < cIn; i++) {
              const allowed = i >= d || (deg[i] as number) < (deg[o % d] as number);
              if (allowed) expect(Math.abs(jac[o]?.[i] as number), `d out${o} / d in${i}`).toBeGreaterThan(0);
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it("orders: 'natural' is 0..D-1, 'random' a seeded permutation, an explicit one is kept", () => {
    expect(madeOrder(made({ order: 'natural' }), 4)).toEqual([0, 1, 2, 3]);
    const r = madeOrder(made({ order: 'random', seed: 3 }), 6);
    expect([...r].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(madeOrder(made({ order: 'random', seed: 3 }), 6)).toEqual(r);
    expect(madeOrder(made({ order: [2, 0, 1] }), 3)).toEqual([2, 0, 1]);
    expect(inputDegrees(made({ order: [2, 0, 1] }), 3)).toEqual([2, 3, 1]);
  });
});

const mafArb = fc.integer({ min: 2, max: 6 }).chain((d) =>
  fc.record({
    d: fc.constant(d),
    order: orderArb(d),
    transformer: fc.constantFrom('affine' as const, 'additive' as const, 'spline' as const),
    inverted: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1000 }),
  }),
);

describe('masked autoregressive flows', () => {
  it('MAF and IAF Jacobians are triangular in the order, with the log-det on the diagonal', () => {
    fc.assert(
      fc.property(mafArb, ({ d, order, transformer, inverted, seed }) => {
        const options = { net: made({ hidden: [16], activation: 'tanh', order }), transformer, bins: 4, bound: 2 } as const;
        const flow: AnyFlow = inverted ? inverseAutoregressive([d], options) : maskedAutoregressive([d], options);
        const params = perturbedParams(flow, seed, 0.3);
        const x = tf.randomNormal([1, d], 0, 1, 'float32', seed);
        const { jacobian } = denseJacobian(flow, params, [x], {}, 0);
        const deg = inputDegrees(options.net, d);
        let logDiag = 0;
        for (let r = 0; r < d; r++) {
          for (let c = 0; c < d; c++) {
            const v = jacobian[r * d + c] as number;
            if (r === c) logDiag += Math.log(Math.abs(v));
            else if ((deg[c] as number) >= (deg[r] as number)) expect(v, `d z${r} / d x${c}`).toBe(0);
          }
        }
        const { logDet } = forward(flow, params)([x]);
        expect(logDet.dataSync()[0]).toBeCloseTo(logDiag, 3);
        tf.dispose([x, logDet]);
        disposeParams(params);
      }),
      { numRuns: 30 },
    );
  });

  it('D = 1 (outputs depend on the context alone) satisfies the flow laws, with and without context', () => {
    for (const flow of [
      maskedAutoregressive([1], { net: made({ hidden: [4] }) }),
      maskedAutoregressive([1], { net: made({ hidden: [4] }), transformer: 'spline', bins: 3, cond: { c: [2] } }),
      inverseAutoregressive([1], { net: made({ hidden: [] }), cond: { c: [1] } }),
    ] as AnyFlow[]) {
      const report = verifyFlow(flow, { seed: 4, batch: 3 });
      expect(report.passed, JSON.stringify(report.checks.filter((c) => !c.passed))).toBe(true);
    }
  });

  it('the spline transformer has linear tails: identity outside the bound, finite values and gradients', () => {
    const flow = maskedAutoregressive([3], { net: made({ hidden: [8], activation: 'tanh' }), transformer: 'spline', bins: 5, bound: 0.5 });
    const params = perturbedParams(flow, 2, 0.5);
    const x = tf.tensor2d([
      [3, -8, 0.2],
      [-0.1, 7, 1e3],
      [0.4, -0.3, 0.1],
    ]);
    const { y, logDet } = forward(flow, params)(x);
    const xs = x.arraySync();
    const ys = y.arraySync();
    xs.forEach((row, n) =>
      row.forEach((v, j) => {
        if (Math.abs(v) > 0.5) expect(ys[n]?.[j]).toBeCloseTo(v, 4);
      }),
    );
    expect(Array.from(logDet.dataSync()).every(Number.isFinite)).toBe(true);
    const back = inverse(flow, params)(y);
    expect(tf.max(tf.div(tf.abs(tf.sub(back.x, x)), tf.add(1, tf.abs(x)))).dataSync()[0]).toBeLessThan(1e-4);
    // Gradients w.r.t. the input and every parameter are finite, inside and outside the bound.
    const leaves: tf.Tensor[] = [];
    const collect = (t: unknown): void => {
      if (t instanceof tf.Tensor) leaves.push(t);
      else if (t !== null && typeof t === 'object') Object.values(t).forEach(collect);
    };
    collect(params);
    const loss = (...ts: tf.Tensor[]) => {
      const [input, ...rest] = ts;
      let k = 0;
      const rebuild = (t: unknown): unknown => (t instanceof tf.Tensor ? rest[k++] : Object.fromEntries(Object.entries(t as object).map(([n, v]) => [n, rebuild(v)])));
      const r = forward(flow, rebuild(params) as ParamRecord)(input as tf.Tensor2D);
      return tf.add(tf.sum(tf.square(r.y)), tf.sum(r.logDet)) as tf.Scalar;
    };
    const grads = tf.grads(loss)([x, ...leaves]);
    for (const g of grads) expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    expect(Math.max(...Array.from((grads[0] as tf.Tensor).dataSync()).map(Math.abs))).toBeGreaterThan(0);
    tf.dispose([x, y, logDet, back.x, back.logDet, ...grads]);
    disposeParams(params);
  });

  it('forward is one pass of the net, inverse is sequential (inverseCost)', async () => {
    const { maskedAutoregressiveDefinition } = await import('../../src/dsl/bijectors/masked-autoregressive.js');
    expect(maskedAutoregressiveDefinition.inverseCost).toBe('sequential');
  });
});

describe('batchNorm', () => {
  const flow = chain(batchNorm([3], { momentum: 0.25 }), maskedAutoregressive([3], { net: made({ hidden: [8] }) }), batchNorm([3]));

  it('init with data sets the running statistics; training mode normalises with the batch and moves them by the momentum', () => {
    const data = tf.add(tf.mul(tf.randomNormal([64, 3], 0, 1, 'float32', 1), [1, 2, 3]), [5, -1, 0]);
    const params = init(flow, { seed: 0, data: data as tf.Tensor2D }) as unknown as ParamRecord[];
    const first = params[0] as ParamRecord;
    const dataMean = tf.mean(data, 0);
    expect(tf.max(tf.abs(tf.sub(first['mean'] as tf.Tensor, dataMean))).dataSync()[0]).toBeLessThan(1e-5);
    // Inference mode with the data's own statistics: the first layer's output is standardised.
    const { y } = forward(flow, params as never)(data as tf.Tensor2D);
    const moments = tf.moments(y, 0);
    expect(Math.max(...Array.from(moments.mean.dataSync()).map(Math.abs))).toBeLessThan(1e-3);

    const shifted = tf.add(data, 1);
    const r = batchNormTraining(flow, params as never)(shifted);
    const next = r.params as unknown as ParamRecord[];
    const batchMean = tf.mean(shifted, 0);
    const expected = tf.add(tf.mul(first['mean'] as tf.Tensor, 0.75), tf.mul(batchMean, 0.25));
    expect(tf.max(tf.abs(tf.sub((next[0] as ParamRecord)['mean'] as tf.Tensor, expected))).dataSync()[0]).toBeLessThan(1e-5);
    // Batch statistics: the training pass standardises the shifted batch, inference mode would not.
    const out = tf.moments(r.ys[0] as tf.Tensor, 0);
    expect(Math.max(...Array.from(out.variance.dataSync()).map((v) => Math.abs(v - 1)))).toBeLessThan(0.05);
    // Untouched parameters are the same tensors; gradients flow through the batch statistics.
    expect(next[1]).toBe(params[1]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(batchNormTraining(flow, params as never)(x).logDet))(shifted);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    expect(Math.max(...Array.from(g.dataSync()).map(Math.abs))).toBeGreaterThan(0);
    tf.dispose([data, dataMean, y, moments.mean, moments.variance, shifted, batchMean, expected, out.mean, out.variance, g, ...r.ys, r.logDet]);
  });
});

// ---------------------------------------------------------------------------------------------
// Codec

const vectorSpecs: Array<[string, AnyFlow]> = [
  ['realnvp on vectors', chain(affineCoupling([4], { net: mlp({ hidden: [8, 8], residual: true }) }), additiveCoupling([4], { net: mlp({ activation: 'tanh' }), cond: { c: [2] } }))],
  ['spline coupling and injector with mlps', chain(splineCoupling([3], { net: mlp({ hidden: [4], activation: 'elu' }), bins: 3 }), conditionalAffine([3], { cond: { c: [5] }, net: mlp() }))],
  ['maf of each transformer', chainOf([
    maskedAutoregressive([5], { net: made({ hidden: [8], order: 'random', seed: 2 }) }),
    maskedAutoregressive([5], { net: made({ order: [4, 3, 2, 1, 0] }), transformer: 'additive', cond: { ctx: [2] } }),
    maskedAutoregressive([5], { net: made({ activation: 'elu' }), transformer: 'spline', bins: 6, bound: 4 }),
    inverseAutoregressive([5], { clamp: 1 }),
  ])],
  ['constrained supports', chain(batchNorm([2], { momentum: 0.05, eps: 1e-4 }), softplus([2]), scaleShift([2], { scale: -1, shift: 3, learnable: true }), tanh([2]), scaleShift([2], { scale: 2 }))],
];

describe('codec of the vector kinds', () => {
  it.each(vectorSpecs)('%s: decode(encode(spec)) deep-equals spec', (_name, spec) => {
    expect(decodeSpec(JSON.parse(encodeSpec(spec as FlowSpec)))).toEqual(E.right(spec));
  });

  const maf = { kind: 'maskedAutoregressive', shape: [3], cond: {}, net: { kind: 'made', hidden: [8], activation: 'relu', order: 'natural', seed: 0 }, transformer: { kind: 'affine', clamp: 2 } };
  const coupling = { kind: 'affineCoupling', shape: [4], cond: {}, net: { kind: 'mlp', hidden: [8], activation: 'relu', residual: false }, clamp: 2 };
  const bad: Array<[string, unknown, string, string]> = [
    ['zero hidden width', { ...coupling, net: { ...coupling.net, hidden: [8, 0] } }, '$.net.hidden[1]', 'expected a positive integer width, got 0'],
    ['misspelt activation', { ...coupling, net: { ...coupling.net, activation: 'relux' } }, '$.net.activation', "did you mean 'relu'"],
    ['residual not a boolean', { ...coupling, net: { ...coupling.net, residual: 'yes' } }, '$.net.residual', ''],
    ['misspelt net kind', { ...coupling, net: { ...coupling.net, kind: 'mpl' } }, '$.net.kind', "expected kind 'mlp'"],
    ['mlp missing its hidden widths', { ...coupling, net: { kind: 'mlp', activation: 'relu', residual: false } }, '$.net.hidden', "missing field 'hidden'"],
    ['a convNet on vectors', { ...coupling, net: { kind: 'convNet', hidden: 8, kernels: [3, 1, 3] } }, '$.net', 'a convNet reads events of rank 3'],
    ['an mlp on images', { ...coupling, shape: [4, 2, 2] }, '$.net', 'a mlp reads events of rank 1'],
    ['a made in a coupling', { ...coupling, net: maf.net }, '$.net', 'a made net is autoregressive'],
    ['an mlp in a maf', { ...maf, net: coupling.net }, '$.net', 'needs a made net'],
    ['an order that is not a permutation', { ...maf, net: { ...maf.net, order: [0, 0, 1] } }, '$.net.order', 'expected a permutation of 0..2'],
    ['an order of the wrong kind', { ...maf, net: { ...maf.net, order: 'reversed' } }, '$.net.order', "expected an order ('natural', 'random' or a permutation"],
    ['misspelt transformer', { ...maf, transformer: { kind: 'splin', bins: 4, bound: 3 } }, '$.transformer.kind', "expected kind 'spline'"],
    ['spline without bins', { ...maf, transformer: { kind: 'spline', bound: 3 } }, '$.transformer.bins', "missing field 'bins'"],
    ['spline with zero bins', { ...maf, transformer: { kind: 'spline', bins: 0, bound: 3 } }, '$.transformer.bins', 'expected a positive integer'],
    ['affine with a negative clamp', { ...maf, transformer: { kind: 'affine', clamp: -1 } }, '$.transformer.clamp', 'expected a positive clamp'],
    ['maf on an image', { ...maf, shape: [3, 2, 2] }, '$.shape', 'expected an event shape [D]'],
    ['maf with image conditioning', { ...maf, cond: { c: [2, 4, 4] } }, '$.cond.c', 'must be a vector'],
    ['batch norm momentum above 1', { kind: 'batchNorm', shape: [3], momentum: 2, eps: 1e-5 }, '$.momentum', 'expected 0 <= momentum <= 1'],
    ['batch norm without eps', { kind: 'batchNorm', shape: [3], momentum: 0.1 }, '$.eps', "missing field 'eps'"],
    ['zero scale', { kind: 'scaleShift', shape: [3], scale: 0, shift: 1, learnable: false }, '$.scale', 'non-zero scale'],
    ['softplus with an extra field', { kind: 'softplus', shape: [3], beta: 2 }, '$.beta', "unknown field 'beta'"],
  ];
  it.each(bad)('%s is reported at its path', (_name, json, path, message) => {
    const r = decodeSpec({ kind: 'chain', steps: [json] });
    expect(E.isLeft(r)).toBe(true);
    if (E.isLeft(r)) expect(r.left).toEqual(expect.arrayContaining([{ path: path.replace('$', '$.steps[0]'), message: expect.stringContaining(message) }]));
  });
});
