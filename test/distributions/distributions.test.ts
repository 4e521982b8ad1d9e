/**
 * Distributions: logProb against closed forms (an affine flow on a standard normal is a Gaussian),
 * sampling consistent with evaluation, image and multi-output flows, conditioning, costs, the codec,
 * and no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { BijectorDefinition } from '../../src/dsl/definition.js';
import { actnorm, affine, affineCoupling, chain, conditionalAffine, convNet, factorOut, inv1x1, inv1x1LU, invert, reverse, squeeze, type AffineSpec } from '../../src/dsl/index.js';
import { definitions } from '../../src/dsl/registry.js';
import {
  diagonalNormal,
  distributionParamInfo,
  encodeDistribution,
  initDistribution,
  logProb,
  parseDistribution,
  sample,
  sampleAndLogProb,
  samplingCost,
  densityCost,
  standardNormal,
  standardNormals,
  transformed,
} from '../../src/distributions/index.js';
import { disposeParams, type ParamTree } from '../../src/dsl/params.js';
import { perturbedParams } from '../../src/interpreters/verify.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Float64 log N(x; mu, diag sigma^2), summed over the dimensions. */
const gaussianLogDensity = (x: readonly number[], mu: readonly number[], sigma: readonly number[]): number =>
  x.reduce((acc, xi, i) => {
    const z = (xi - (mu[i] as number)) / (sigma[i] as number);
    return acc - 0.5 * z * z - Math.log(sigma[i] as number) - 0.5 * LOG_2PI;
  }, 0);

const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)) / (1 + Math.abs(b[i] as number)));
  return m;
};

describe('logProb against closed forms', () => {
  it('an affine flow on a standard normal is the Gaussian N(-b e^-s, e^-2s)', () => {
    const dist = transformed(standardNormal([3]), affine([3]));
    const s = [0.3, -0.7, 1.1];
    const b = [1.5, -2, 0.25];
    const params = { base: {}, flow: { logScale: tf.tensor1d(s), shift: tf.tensor1d(b) } };
    const mu = s.map((si, i) => -(b[i] as number) * Math.exp(-si));
    const sigma = s.map((si) => Math.exp(-si));
    const rows = Array.from({ length: 64 }, (_, r) => [0, 1, 2].map((i) => Math.sin(r * 1.7 + i) * 4));
    const x = tf.tensor2d(rows);
    const lp = logProb(dist, params)(x);
    const want = rows.map((row) => gaussianLogDensity(row, mu, sigma));
    expect(maxRelDiff(lp.dataSync(), want)).toBeLessThan(1e-5);
    tf.dispose([x, lp]);
    disposeParams(params);
  });

  it('a diagonal normal is the Gaussian of its mean and exp(logStd)', () => {
    const dist = diagonalNormal([2]);
    const params = [{ mean: tf.tensor1d([0.5, -3]), logStd: tf.tensor1d([-0.2, 0.9]) }];
    const rows = [[0, 0], [1, -2], [-4, 7], [0.5, -3]];
    const x = tf.tensor2d(rows);
    const lp = logProb(dist, params)(x);
    const want = rows.map((r) => gaussianLogDensity(r, [0.5, -3], [Math.exp(-0.2), Math.exp(0.9)]));
    expect(maxRelDiff(lp.dataSync(), want)).toBeLessThan(1e-5);
    tf.dispose([x, lp]);
    disposeParams(params);
  });
});

/** A distribution's fresh params with every trainable parameter perturbed (so no layer is the identity). */
const perturbed = (flowParams: ParamTree, base: ParamTree = {}): ParamTree => ({ base, flow: flowParams });

describe('sampling is consistent with evaluation', () => {
  it('vector flow: logProb(sample) equals sampleAndLogProb, and the draws are seeded', () => {
    const flow = chain(actnorm([4]), inv1x1LU([4]), affine([4]), reverse([4]), inv1x1([4]));
    const dist = transformed(diagonalNormal([4]), flow);
    const params = perturbed(perturbedParams(flow, 3, 0.3), [{ mean: tf.tensor1d([0.1, 0.2, -0.3, 0]), logStd: tf.tensor1d([0.2, -0.1, 0, 0.3]) }]);
    const before = tf.memory().numTensors;
    const { x, logProb: lq } = sampleAndLogProb(dist, params)(128, { seed: 7 });
    const again = sample(dist, params)(128, { seed: 7 }).x;
    const other = sample(dist, params)(128, { seed: 8 }).x;
    const lp = logProb(dist, params)(x);
    expect(tf.memory().numTensors).toBe(before + 5);
    expect(x.shape).toEqual([128, 4]);
    expect(maxRelDiff(lp.dataSync(), lq.dataSync())).toBeLessThan(1e-4);
    expect(Array.from(again.dataSync())).toEqual(Array.from(x.dataSync()));
    expect(Array.from(other.dataSync())).not.toEqual(Array.from(x.dataSync()));
    tf.dispose([x, lq, again, other, lp]);
    disposeParams(params);
  });

  it('image flow with two outputs: NHWC draws, logProb equals sampleAndLogProb', () => {
    const step = chain(actnorm([4, 2, 2]), inv1x1([4, 2, 2]), affineCoupling([4, 2, 2], { net: convNet({ hidden: 8 }) }));
    const flow = chain(squeeze([2, 4, 4]), factorOut([8, 2, 2], step)); // Flow<[[2,4,4]], [[4,2,2],[4,2,2]]>
    const dist = transformed(standardNormals([[4, 2, 2], [4, 2, 2]]), flow);
    const params = perturbed(perturbedParams(flow, 1, 0.2));
    const { x, xs, logProb: lq } = sampleAndLogProb(dist, params)(16, { seed: 2 });
    expect(xs.length).toBe(1);
    expect(x.shape).toEqual([16, 4, 4, 2]);
    const lp = logProb(dist, params)(x);
    expect(lp.shape).toEqual([16]);
    expect(maxRelDiff(lp.dataSync(), lq.dataSync())).toBeLessThan(1e-4);
    tf.dispose([x, lq, lp]);
    disposeParams(params);
  });

  it('a conditional flow makes a conditional distribution: the context is passed by name', () => {
    const flow = chain(affine([2, 2, 2]), conditionalAffine([2, 2, 2], { cond: { c: [1, 2, 2] }, net: convNet({ hidden: 4 }) }));
    const dist = transformed(standardNormal([2, 2, 2]), flow);
    const params = perturbed(perturbedParams(flow, 4, 0.3));
    const c = tf.randomNormal([10, 2, 2, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const c2 = tf.add(c, 1) as tf.Tensor4D;
    const { x, logProb: lq } = sampleAndLogProb(dist, params)(10, { seed: 1, ctx: { c } });
    const lp = logProb(dist, params)(x, { c });
    const lpOther = logProb(dist, params)(x, { c: c2 });
    expect(maxRelDiff(lp.dataSync(), lq.dataSync())).toBeLessThan(1e-4);
    expect(maxRelDiff(lpOther.dataSync(), lq.dataSync())).toBeGreaterThan(1e-3);
    expect(() => logProb(dist, params)(x, {} as never)).toThrow(/missing conditioning input 'c'/);
    expect(() => sample(dist, params)(3, { ctx: { c } })).toThrow(/expected \[3,2,2,1\]/);
    tf.dispose([c, c2, x, lq, lp, lpOther]);
    disposeParams(params);
  });
});

describe('initialisation and parameters', () => {
  it('data-dependent init: ActNorm normalises the data and a diagonal normal base starts at what reaches it', () => {
    const dist = transformed(diagonalNormal([2]), chain(affine([2]), actnorm([2])));
    const data = tf.add(tf.mul(tf.randomNormal([500, 2], 0, 1, 'float32', 1), [3, 0.5]), [10, -1]) as tf.Tensor2D;
    const params = initDistribution(dist, { seed: 0, data });
    const { base } = params as { base: Array<{ mean: tf.Tensor; logStd: tf.Tensor }> };
    const mean = base[0]!.mean.dataSync();
    const logStd = base[0]!.logStd.dataSync();
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(mean[i] as number)).toBeLessThan(1e-3);
      expect(Math.abs(logStd[i] as number)).toBeLessThan(1e-2);
    }
    expect(distributionParamInfo(dist).map((p) => p.path)).toEqual(['base.0.mean', 'base.0.logStd', 'flow.0.logScale', 'flow.0.shift', 'flow.1.bias', 'flow.1.logScale']);
    disposeParams(params);
    data.dispose();
  });

  it('a base whose shapes are not the flow outputs is a SpecError at $.base', () => {
    expect(() => transformed(standardNormal([3]) as never, affine([2]))).toThrow(/\$\.base: the base distribution has event shape\(s\) \[3\] but the flow's outputs are \[2\]/);
  });
});

describe('costs', () => {
  const table = definitions() as Map<string, unknown>;
  const original = table.get('affine');
  afterEach(() => table.set('affine', original));

  it('every bijector here samples and evaluates in closed form', () => {
    const dist = transformed(standardNormal([2, 4, 4]), chain(actnorm([2, 4, 4]), inv1x1([2, 4, 4]), affineCoupling([2, 4, 4])));
    expect(samplingCost(dist)).toBe('analytic');
    expect(densityCost(dist)).toBe('analytic');
  });

  it('a sequential inverse makes sampling sequential; inverted, it makes the density sequential', () => {
    table.set('affine', { ...(original as BijectorDefinition<AffineSpec>), inverseCost: 'sequential' });
    const maf = transformed(standardNormal([2]), chain(actnorm([2]), affine([2])));
    const iaf = transformed(standardNormal([2]), chain(actnorm([2]), invert(affine([2]))));
    expect([samplingCost(maf), densityCost(maf)]).toEqual(['sequential', 'analytic']);
    expect([samplingCost(iaf), densityCost(iaf)]).toEqual(['analytic', 'sequential']);
  });
});

describe('codec', () => {
  it('round-trips through JSON and names the bad node', () => {
    const dist = transformed(diagonalNormal([2]), chain(actnorm([2]), inv1x1LU([2])));
    const back = parseDistribution(encodeDistribution(dist));
    expect(E.isRight(back) && back.right).toEqual(JSON.parse(JSON.stringify(dist)));
    const json = JSON.parse(encodeDistribution(dist)) as { base: { shapes: number[][] }; flow: { steps: Array<{ kind: string }> } };
    json.base.shapes = [[3]];
    json.flow.steps[0]!.kind = 'actnrom';
    const bad = parseDistribution(JSON.stringify(json));
    expect(E.isLeft(bad) && bad.left.map((i) => i.path)).toEqual(['$.flow.steps[0].kind']);
    json.flow.steps[0]!.kind = 'actnorm';
    const bad2 = parseDistribution(JSON.stringify(json));
    expect(E.isLeft(bad2) && bad2.left.map((i) => `${i.path}: ${i.message}`).join()).toMatch(/\$\.base: the base distribution has event shape\(s\) \[3\]/);
  });
});
