/**
 * The studentT distribution: lgamma against known values, log p against closed forms (Cauchy at
 * nu = 1, nu = 2's algebraic form, the normal limit), draws with the right tails, and a fit that
 * learns small degrees of freedom from heavy-tailed data.
 */
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeDistribution, fit, logProb, parseDistribution, sample, studentT } from '../../src/distributions/index.js';
import { lgamma, MIN_DF } from '../../src/distributions/student-t.js';
import { disposeParams, type ParamTree } from '../../src/dsl/params.js';
import { seededRandom } from '../../src/dsl/random.js';

afterEach(() => expect(tf.memory().numTensors).toBe(0));

/** Params for per-dimension (location, scale, nu). */
const paramsOf = (location: number[], scale: number[], nu: number[]): ParamTree => ({
  location: tf.tensor1d(location),
  logScale: tf.tensor1d(scale.map(Math.log)),
  // The inverse of nu = MIN_DF + softplus(raw) (softplus(raw) = raw to float precision above 30).
  rawDf: tf.tensor1d(nu.map((v) => (v - MIN_DF > 30 ? v - MIN_DF : Math.log(Math.expm1(v - MIN_DF))))),
});

const at = (params: ParamTree, rows: number[][]): number[] => {
  const dist = studentT([rows[0]?.length as number] as [number]);
  const x = tf.tensor2d(rows);
  const lp = logProb(dist, params)(x as never);
  const v = Array.from(lp.dataSync());
  tf.dispose([x, lp]);
  return v;
};

describe('studentT', () => {
  it('lgamma matches known values: Gamma(1/2) = sqrt(pi), Gamma(1) = Gamma(2) = 1, Gamma(10) = 9!, Gamma(0.1)', () => {
    const x = tf.tensor1d([0.5, 1, 2, 10, 0.1, 30]);
    const got = lgamma(x);
    // log Gamma(0.1) = 2.252712651734206, log Gamma(30) = log(29!) = 71.25703896716801.
    const want = [0.5 * Math.log(Math.PI), 0, 0, Math.log(362880), 2.252712651734206, 71.25703896716801];
    // float32: 1e-5 relative.
    Array.from(got.dataSync()).forEach((g, i) => expect(Math.abs(g - (want[i] as number))).toBeLessThan(1e-5 * (1 + Math.abs(want[i] as number))));
    tf.dispose([x, got]);
  });

  it('log p: the Cauchy at nu = 1, the closed form at nu = 2, near the normal at nu = 1e4 (generated points and scales)', () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: 0.1, max: 10, noNaN: true }), (x, m, s) => {
        const z = (x - m) / s;
        const cauchy = -Math.log(Math.PI * s) - Math.log1p(z * z);
        // nu = 2: p(z) = (2 + z^2)^(-3/2), over s.
        const nu2 = -1.5 * Math.log(2 + z * z) - Math.log(s);
        const normal = -0.5 * z * z - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
        const one = (nu: number): ParamTree => paramsOf([m], [s], [nu]);
        const got = [1, 2].map((nu) => {
          const q = one(nu);
          const v = at(q, [[x]])[0] as number;
          disposeParams(q);
          return v;
        });
        // float32 throughout: 1e-4 relative on values of order 1-10.
        expect(Math.abs((got[0] as number) - cauchy)).toBeLessThan(1e-4 * (1 + Math.abs(cauchy)));
        expect(Math.abs((got[1] as number) - nu2)).toBeLessThan(1e-4 * (1 + Math.abs(nu2)));
        if (Math.abs(z) < 3) {
          const q = one(1e4);
          const v = at(q, [[x]])[0] as number;
          disposeParams(q);
          // The t at nu = 1e4 differs from the normal by O(z^4 / nu) ~ 1e-2 at |z| = 3.
          expect(Math.abs(v - normal)).toBeLessThan(2e-2);
        }
      }),
      { numRuns: 30, seed: 4 },
    );
  });

  it('draws at nu = 2 have the t tails: P(|t| > 5) = 1 - 5/sqrt(27) = 0.0377', () => {
    const p = paramsOf([0], [1], [2]);
    const { x } = sample(studentT([1]), p)(40000, { seed: 3 });
    const share = Array.from(x.dataSync()).filter((v) => Math.abs(v) > 5).length / 40000;
    // For nu = 2, P(|T| > t) = 1 - t / sqrt(2 + t^2); binomial SE sqrt(0.0377 * 0.96 / 40000) ~ 0.001.
    expect(Math.abs(share - (1 - 5 / Math.sqrt(27)))).toBeLessThan(0.004);
    x.dispose();
    disposeParams(p);
  });

  it('a fit to t(2) data learns small degrees of freedom; the codec round-trips it', () => {
    const back = parseDistribution(encodeDistribution(studentT([2])));
    expect(E.isRight(back) && back.right).toEqual(studentT([2]));
    const r = seededRandom(5);
    const normal = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const rows = Array.from({ length: 2000 }, () => {
      const w = -Math.log(1 - r()); // chi^2_2 / 2
      return [normal() / Math.sqrt(w), 3 + 2 * normal()];
    });
    const data = tf.tensor2d(rows);
    const fitted = fit(studentT([2]), data as never, { steps: 300, lr: 0.05, seed: 1 });
    const nu = tf.tidy(() => Array.from(tf.add(tf.softplus((fitted.params as { rawDf: tf.Tensor }).rawDf), MIN_DF).dataSync()));
    // The heavy-tailed column needs small nu (truth 2), the Gaussian one large (started at 10, grows).
    expect(nu[0]).toBeLessThan(3);
    expect(nu[1]).toBeGreaterThan(8);
    disposeParams(fitted.params);
    data.dispose();
  });
});
