/**
 * The kinds on the op algebra: every registered kind states its maths once (`algebra`) unless it is a
 * listed tfjs override; every registered transformer is the identity at a zero conditioner output; and
 * sinhArcsinh (TFP's convention) matches its closed form computed in float64.
 */
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { tfjsOverrides } from '../../src/algebra/overrides.js';
import { tfjsOps } from '../../src/algebra/tfjs.js';
import {
  additiveCoupling,
  affineCoupling,
  autoregressive,
  convNet,
  coupling,
  definitions,
  made,
  maskedAutoregressive,
  mlp,
  sinhArcsinh,
  splineCoupling,
  transformers,
  type AnyFlow,
} from '../../src/dsl/index.js';
import { disposeParams, forward, inverse, perturbedParams } from '../../src/interpreters/index.js';

describe('kinds on the algebra', () => {
  it('every registered kind has an algebra, except exactly the listed tfjs overrides', () => {
    const without = [...definitions()].filter(([, d]) => d.algebra === undefined).map(([k]) => k);
    expect(without.sort()).toEqual(Object.keys(tfjsOverrides).sort());
  });

  it('every registered transformer is the identity (log-det 0) at a zero conditioner output', () => {
    // Exact: a zero output gives scale exp(0) = 1, shift 0, uniform bins with unit derivatives, skew 0 and
    // tailweight 1, which float32 computes exactly up to the identity's own rounding (tolerance 1e-5).
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1000 }), (n, c, seed) => {
        for (const [name, tr] of transformers) {
          const fields = name === 'affine' ? { kind: 'affine', clamp: 2 } : name === 'spline' ? { kind: 'spline', bins: 4, bound: 3 } : { kind: name };
          const m = tr.valuesPerElement(fields);
          tf.tidy(() => {
            const z = tf.randomNormal([n, 2, c], 0, 2, 'float32', seed);
            const raw = tf.zeros([n, 2, m * c]);
            for (const pass of [tr.forward, tr.inverse]) {
              const { out, logDet } = pass(tfjsOps, fields, z, raw, [2, c]);
              expect(tf.max(tf.abs(tf.sub(out as tf.Tensor, z))).dataSync()[0]).toBeLessThan(1e-5);
              expect(tf.max(tf.abs(logDet as tf.Tensor)).dataSync()[0]).toBeLessThan(1e-5);
            }
          });
        }
      }),
      { numRuns: 20 },
    );
  });

  it('sinhArcsinh is y = sinh((asinh(x) + skew) * tailweight) with log|dy/dx| from float64, both ways', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        fc.array(fc.double({ min: -6, max: 6, noNaN: true }), { minLength: 1, maxLength: 6 }),
        (skew, tailweight, xs) => {
          const flow = sinhArcsinh([xs.length], { skew, tailweight });
          const y64 = xs.map((x) => Math.sinh((Math.asinh(x) + skew) * tailweight));
          // d/dx = tailweight cosh((asinh x + skew) tailweight) / sqrt(1 + x^2), in float64.
          const logDet64 = xs.reduce((s, x) => s + Math.log(tailweight * Math.cosh((Math.asinh(x) + skew) * tailweight)) - 0.5 * Math.log1p(x * x), 0);
          const x = tf.tensor2d([xs]);
          const { y, logDet } = forward(flow, {})(x);
          const back = inverse(flow, {})(y);
          const got = Array.from(y.dataSync());
          // float32: relative 1e-5 of |y| (sinh amplifies the input's rounding by at most tailweight * |y| / sqrt(1+x^2)).
          got.forEach((v, i) => expect(Math.abs(v - (y64[i] as number))).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(y64[i] as number))));
          expect(Math.abs((logDet.dataSync()[0] as number) - logDet64)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(logDet64)) * xs.length);
          expect(Math.abs((back.logDet.dataSync()[0] as number) + (logDet.dataSync()[0] as number))).toBeLessThanOrEqual(1e-4);
          Array.from(back.x.dataSync()).forEach((v, i) => expect(Math.abs(v - (xs[i] as number))).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(xs[i] as number))));
          tf.dispose([x, y, logDet, back.x, back.logDet]);
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** Both flows on the same perturbed params and inputs: max |difference| of outputs and log-dets, both directions. */
const distance = (a: AnyFlow, b: AnyFlow, event: readonly number[], seed: number): number => {
  const params = perturbedParams(a, seed, 0.3);
  const x = tf.randomNormal([2, ...event], 0, 1, 'float32', seed);
  const fa = forward(a, params)([x]);
  const fb = forward(b, params)([x]);
  const ia = inverse(a, params)([x]);
  const ib = inverse(b, params)([x]);
  const d = tf.tidy(() =>
    Math.max(...[[fa.y, fb.y], [fa.logDet, fb.logDet], [ia.x, ib.x], [ia.logDet, ib.logDet]].map(([p, q]) => tf.max(tf.abs(tf.sub(p as tf.Tensor, q as tf.Tensor))).dataSync()[0] as number)),
  );
  tf.dispose([x, fa.y, fb.y, fa.logDet, fb.logDet, ia.x, ib.x, ia.logDet, ib.logDet]);
  disposeParams(params);
  return d;
};

describe('the older kinds are spellings of coupling and autoregressive', () => {
  it('with the same params they compute the same numbers, exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 1000 }), (c, seed) => {
        const net = convNet({ hidden: 4 });
        const image = [c, 2, 2] as const;
        const pairs: Array<[AnyFlow, AnyFlow, readonly number[]]> = [
          [affineCoupling(image, { net, clamp: 1.5 }), coupling(image, { kind: 'affine', clamp: 1.5 }, { net }), [2, 2, c]],
          [additiveCoupling(image, { net }), coupling(image, { kind: 'additive' }, { net }), [2, 2, c]],
          [splineCoupling([c], { net: mlp({ hidden: [6] }), bins: 3, bound: 2 }), coupling([c], { kind: 'spline', bins: 3, bound: 2 }, { net: mlp({ hidden: [6] }) }), [c]],
          [
            maskedAutoregressive([c], { net: made({ hidden: [8] }), transformer: 'spline', bins: 3, bound: 2 }),
            autoregressive([c], { kind: 'spline', bins: 3, bound: 2 }, { net: made({ hidden: [8] }) }),
            [c],
          ],
        ];
        // Same maths, same op order: no tolerance.
        for (const [a, b, event] of pairs) expect(distance(a, b, event, seed)).toBe(0);
      }),
      { numRuns: 8 },
    );
  });
});
