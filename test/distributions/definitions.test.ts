/**
 * The base kinds' definitions (src/distributions/kinds) on the float64 engine of the op algebra, with
 * generated sizes and random parameters: the maths each kind states once, checked against closed forms
 * that do not go through it, and the same maths on tfjs (float32) against float64.
 *
 * - a draw inverts to its noise: the mixture's whitened draw (x - mu_c) U_c is its normal noise, the
 *   Student-t's (x - m) / s * sqrt(v) its normal, the diagonal normal's (x - mean) / std its noise;
 * - log p at a draw: the diagonal normal's is log N(eps; 0, I) - sum logStd; the mixture's equals em.ts's
 *   float64 mixture density (covariances (U U^T)^-1 inverted here, an independent computation);
 *   the Student-t's at nu = 1 is the Cauchy's;
 * - tfjs's float32 result of the same maths is within float32 error of float64's.
 *
 * Tolerances: float64 identities to 1e-9 relative (a few dozen ops on numbers of order 1-100, each
 * exact to 1e-16, and EM's density differs only in its order of operations); float32 against float64
 * to 1e-4 normalised (|a - b| / (1 + |b|): the order-of-operations budget of the engine parity tests).
 * A wrong sign, a transposed factor or a missing term gives errors of order 1e-1 and above.
 */
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { float64Ops, float64Tensor, type Float64Tensor, type Float64Value } from '../../src/algebra/float64.js';
import { paramsToFloat64 } from '../../src/algebra/float64-tfjs.js';
import type { ValueNode } from '../../src/algebra/ops.js';
import { tfjsOps } from '../../src/algebra/tfjs.js';
import { mixtureLogDensities } from '../../src/distributions/em.js';
import { diagonalNormal, gaussianMixture, studentT, type DistributionSpec } from '../../src/distributions/index.js';
import { baseDefinitionOf, type BaseSpec } from '../../src/distributions/kinds/index.js';
import { invert } from '../../src/dsl/maths/linalg.js';
import type { ParamTree } from '../../src/dsl/params.js';
import { randomDistributionParams } from '../support/distribution-params.js';

afterEach(() => expect(tf.memory().numTensors).toBe(0));

const N = 16;
const o = float64Ops;

/** Seeded standard-normal and uniform values (Box-Muller on a linear congruential stream). */
const stream = (seed: number) => {
  let s = seed >>> 0 || 1;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return { uniform, normal: () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) };
};

const tensor = (shape: number[], f: () => number): Float64Tensor => float64Tensor(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, f));
const data = (v: Float64Value): Float64Array => (v as Float64Tensor).data;

/** The base's definition, its params in float64, and a draw from noise with its log p, on the float64 engine. */
const drawOf = (spec: BaseSpec, params: ParamTree, noise: readonly Float64Tensor[]) => {
  const definition = baseDefinitionOf(spec);
  const values = paramsToFloat64(params);
  const [x] = definition.fromNoise(o, spec, values, noise) as Float64Value[];
  return { definition, values, x: x as Float64Tensor, logProb: data(definition.logProb(o, spec, values, [x as Float64Value])) };
};

const close = (a: number, b: number, rel: number): boolean => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

/** float32 (tfjs) log p at the same points, normalised error against float64. */
const tfjsAgrees = (spec: BaseSpec, params: ParamTree, x: Float64Tensor, want: Float64Array): number =>
  tf.tidy(() => {
    const got = baseDefinitionOf(spec).logProb(tfjsOps, spec, params as ValueNode<tf.Tensor>, [tf.tensor(Array.from(x.data), [...x.shape])]).dataSync();
    return Math.max(...Array.from(want, (w, i) => Math.abs((got[i] as number) - w) / (1 + Math.abs(w))));
  });

const sizes = fc.record({ d: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 3 }), seed: fc.integer({ min: 1, max: 10_000 }) });

describe('base kinds: the maths of each definition, once, on float64 and tfjs', () => {
  it('a Gaussian mixture: a draw whitens to its noise in its component; log p is the EM density; tfjs agrees', () => {
    fc.assert(
      fc.property(sizes, ({ d, k, seed }) => {
        const spec = gaussianMixture([d], k) as DistributionSpec as Extract<BaseSpec, { kind: 'gaussianMixture' }>;
        const params = randomDistributionParams(spec, seed);
        try {
          const r = stream(seed);
          const choice = Array.from({ length: N }, () => Math.floor(r.uniform() * k));
          const oneHot = float64Tensor([N, k], choice.flatMap((c) => Array.from({ length: k }, (_, j) => (j === c ? 1 : 0))));
          const eps = tensor([N, d], r.normal);
          const { x, logProb } = drawOf(spec, params, [oneHot, eps]);
          const raw = Array.from((params as { precisionFactor: tf.Tensor }).precisionFactor.dataSync());
          const means = Array.from((params as { means: tf.Tensor }).means.dataSync());
          const logits = Array.from((params as { logits: tf.Tensor }).logits.dataSync());
          const u = (c: number, i: number, j: number): number => (j < i ? 0 : i === j ? Math.exp(raw[c * d * d + i * d + j] as number) : (raw[c * d * d + i * d + j] as number));
          // (x - mu_c) U_c = eps, row by row.
          choice.forEach((c, n) => {
            for (let j = 0; j < d; j++) {
              let w = 0;
              for (let i = 0; i < d; i++) w += ((x.data[n * d + i] as number) - (means[c * d + i] as number)) * u(c, i, j);
              expect(close(w, eps.data[n * d + j] as number, 1e-9), `whitened ${w} vs noise ${eps.data[n * d + j]}`).toBe(true);
            }
          });
          // The mixture density computed by em.ts from covariances (U U^T)^-1.
          const top = Math.max(...logits);
          const z = logits.reduce((a, l) => a + Math.exp(l - top), 0);
          const covariances = Array.from({ length: k }, (_, c) => {
            const p = Array.from({ length: d * d }, (_, e) => {
              const [i, j] = [Math.floor(e / d), e % d];
              let s = 0;
              for (let m = 0; m < d; m++) s += u(c, i, m) * u(c, j, m);
              return s;
            });
            return invert(p, d);
          });
          const want = mixtureLogDensities({ weights: logits.map((l) => Math.exp(l - top) / z), means: Array.from({ length: k }, (_, c) => Float64Array.from(means.slice(c * d, (c + 1) * d))), covariances }, x.data, d);
          want.forEach((w, n) => expect(close(logProb[n] as number, w, 1e-9), `log p ${logProb[n]} vs EM's ${w}`).toBe(true));
          expect(tfjsAgrees(spec, params, x, logProb)).toBeLessThan(1e-4);
        } finally {
          tf.dispose(Object.values(params as object) as tf.Tensor[]);
        }
      }),
      { numRuns: 12, seed: 20261208 },
    );
  });

  it('a Student-t: a draw is m + s g / sqrt(v); log p at nu = 1 is the Cauchy\'s; tfjs agrees', () => {
    fc.assert(
      fc.property(sizes, ({ d, seed }) => {
        const spec = studentT([d]) as DistributionSpec as Extract<BaseSpec, { kind: 'studentT' }>;
        const params = randomDistributionParams(spec, seed);
        const cauchy = tf.tidy(() => ({ ...(params as { [k: string]: tf.Tensor }), rawDf: tf.fill([d], Math.log(Math.expm1(0.5))) })); // nu = 0.5 + softplus(raw) = 1
        try {
          const r = stream(seed);
          const g = tensor([N, d], r.normal);
          const v = tensor([N, d], () => 0.2 + 2 * r.uniform());
          const { x, logProb } = drawOf(spec, params, [g, v]);
          const loc = Array.from((params as { location: tf.Tensor }).location.dataSync());
          const logScale = Array.from((params as { logScale: tf.Tensor }).logScale.dataSync());
          x.data.forEach((xi, e) => {
            const i = e % d;
            const back = ((xi - (loc[i] as number)) / Math.exp(logScale[i] as number)) * Math.sqrt(v.data[e] as number);
            expect(close(back, g.data[e] as number, 1e-9)).toBe(true);
          });
          expect(tfjsAgrees(spec, params, x, logProb)).toBeLessThan(1e-4);
          const atOne = drawOf(spec, cauchy, [g, v]);
          atOne.logProb.forEach((lp, n) => {
            let want = 0;
            for (let i = 0; i < d; i++) {
              const s = Math.exp(logScale[i] as number);
              const zi = ((atOne.x.data[n * d + i] as number) - (loc[i] as number)) / s;
              want += -Math.log(Math.PI * s * (1 + zi * zi));
            }
            // lgamma's Stirling series is exact to 1e-9 (the file comment of kinds/student-t.ts).
            expect(close(lp, want, 1e-8), `log p ${lp} vs the Cauchy's ${want}`).toBe(true);
          });
        } finally {
          tf.dispose([...(Object.values(params as object) as tf.Tensor[]), cauchy['rawDf'] as tf.Tensor]);
        }
      }),
      { numRuns: 12, seed: 20261209 },
    );
  });

  it('a diagonal normal: a draw is mean + std eps; log p there is log N(eps; 0, I) - sum logStd; tfjs agrees', () => {
    fc.assert(
      fc.property(sizes, ({ d, seed }) => {
        const spec = diagonalNormal([d]) as DistributionSpec as Extract<BaseSpec, { kind: 'diagonalNormal' }>;
        const params = randomDistributionParams(spec, seed);
        const p = (params as ReadonlyArray<{ mean: tf.Tensor; logStd: tf.Tensor }>)[0]!;
        try {
          const eps = tensor([N, d], stream(seed).normal);
          const { x, logProb } = drawOf(spec, params, [eps]);
          const mean = Array.from(p.mean.dataSync());
          const logStd = Array.from(p.logStd.dataSync());
          x.data.forEach((xi, e) => expect(close((xi - (mean[e % d] as number)) / Math.exp(logStd[e % d] as number), eps.data[e] as number, 1e-9)).toBe(true));
          logProb.forEach((lp, n) => {
            let want = 0;
            for (let i = 0; i < d; i++) want += -0.5 * (eps.data[n * d + i] as number) ** 2 - (logStd[i] as number) - 0.5 * Math.log(2 * Math.PI);
            expect(close(lp, want, 1e-9)).toBe(true);
          });
          expect(tfjsAgrees(spec, params, x, logProb)).toBeLessThan(1e-4);
        } finally {
          tf.dispose([p.mean, p.logStd]);
        }
      }),
      { numRuns: 12, seed: 20261210 },
    );
  });
});
