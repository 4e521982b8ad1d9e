/**
 * CAFLOW's exported graphs on onnxruntime-node against the tfjs model: the sampling graph fed the same
 * noise gives the same ranked samples and log-likelihoods as sample(); the likelihood graph gives
 * logLikelihood's terms; the forward and inverse graphs give toLatents / fromLatents. Both variants,
 * with perturbed (non-trivial) parameters.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { caflowConfig, caflowSpec, logLikelihood, sample, type CaflowParams, type CaflowSpec, type Variant } from '../../src/caflow/index.js';
import { fromLatents, toLatents } from '../../src/caflow/latents.js';
import { caflowToOnnx, latentName, noiseName, priorLatents } from '../../src/caflow/onnx.js';
import { disposeParams, perturbedParams, type ParamTree } from '../../src/interpreters/index.js';
import { seededNormal } from '../../src/interpreters/seeded-normal.js';
import { tensorShape } from '../../src/dsl/shape.js';
import { normalisedError, runOnnx } from '../support/onnx-helpers.js';

const worst: Record<string, number> = {};
const record = (name: string, e: number): number => {
  worst[name] = Math.max(worst[name] ?? 0, e);
  return e;
};
afterAll(() => console.log(`worst normalised CAFLOW ONNX-vs-tfjs errors: ${JSON.stringify(worst)}`));

/**
 * |onnx - tfjs| / (1 + |tfjs|). The sampling path runs ~40 layers (two encoders of two scales, two
 * conditional flows) and log-likelihoods sum ~10^2 terms of magnitude up to 10^2; the per-layer
 * differences of test/engines/onnx-flows.test.ts (2e-6 worst) add up along it. Measured worst: printed below;
 * 1e-4 keeps a margin of 10x or more while a wrong lowering anywhere on the path gives O(0.1) or more.
 */
const TOL = 1e-4;

const model = (variant: Variant): CaflowSpec =>
  caflowSpec(caflowConfig({ target: [2, 8, 8], condition: [1, 8, 8], scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 6, conditionalHidden: 4, variant }));

const paramsOf = (m: CaflowSpec, seed: number): CaflowParams => ({
  R: perturbedParams(m.encoderY, seed, 0.2),
  T: perturbedParams(m.encoderW, seed + 1, 0.2),
  G: m.priors.map((p, i) => perturbedParams(p, seed + 2 + i, 0.2)),
});
const release = (p: CaflowParams): void => [p.R, p.T, ...p.G].forEach((t) => disposeParams(t as ParamTree));

/** Dequantised 8-bit images: what the encoders' logit takes. */
const pixels = (shape: readonly [number, number, number, number], seed: number): tf.Tensor4D => tf.randomUniform<tf.Rank.R4>([...shape], 0.5, 255.5, 'float32', seed);

describe.each(['caflow', 'dualglow'] as const)('%s', (variant) => {
  const m = model(variant);

  it('the sampling graph fed the same noise gives sample()\'s ranked samples and log-likelihoods', async () => {
    const params = paramsOf(m, 3);
    const b = 2;
    const k = 3;
    const y = pixels([b, 8, 8, 1], 5);
    const noise = m.priors.map((_, i) => priorLatents(m, i).map(({ shape }, j) => seededNormal<tf.Rank.R4>(tensorShape(shape, b * k) as [number, number, number, number], 1, 40 + 10 * i + j)));
    const temperature = [0.9, 0.6];
    const ref = sample(m, params)(y, { k, temperature, noise });
    const feeds: Record<string, tf.Tensor> = { Y: y, temperature: tf.tensor1d(temperature) };
    m.priors.forEach((_, i) => priorLatents(m, i).forEach(({ scale }, j) => (feeds[noiseName(i, scale)] = noise[i]![j]!)));
    const out = await runOnnx(caflowToOnnx(m, params, { direction: 'sample', k }), feeds);
    expect(record(`${variant} sample W`, normalisedError(out['W'], ref.w))).toBeLessThan(TOL);
    expect(record(`${variant} sample logp`, normalisedError(out['logp'], ref.logLikelihood))).toBeLessThan(TOL);
    // Ranked: non-increasing within each condition, and not all equal (the ranking did something).
    const logp = out['logp']!.data;
    for (let c = 0; c < b; c++) for (let j = 1; j < k; j++) expect(logp[c * k + j]!).toBeLessThanOrEqual(logp[c * k + j - 1]!);
    expect(new Set(Array.from(logp)).size).toBe(b * k);
    tf.dispose([y, ref.w, ref.logLikelihood, feeds['temperature']!, ...noise.flat()]);
    release(params);
  });

  it('the likelihood graph gives logLikelihood\'s conditional, log p(Y) and joint terms', async () => {
    const params = paramsOf(m, 7);
    const w = pixels([3, 8, 8, 2], 8);
    const y = pixels([3, 8, 8, 1], 9);
    const ref = logLikelihood(m, params)(w, y);
    const out = await runOnnx(caflowToOnnx(m, params, { direction: 'likelihood' }), { W: w, Y: y });
    expect(record(`${variant} likelihood logp`, normalisedError(out['logp'], ref.conditional))).toBeLessThan(TOL);
    expect(record(`${variant} likelihood logpY`, normalisedError(out['logpY'], ref.logpY))).toBeLessThan(TOL);
    expect(record(`${variant} likelihood joint`, normalisedError(out['joint'], ref.joint))).toBeLessThan(TOL);
    tf.dispose([w, y, ref.joint, ref.conditional, ref.logpY, ref.logDetT, ...ref.priors]);
    release(params);
  });

  it('the forward and inverse graphs give toLatents and fromLatents', async () => {
    const params = paramsOf(m, 11);
    const w = pixels([2, 8, 8, 2], 12);
    const y = pixels([2, 8, 8, 1], 13);
    const enc = toLatents(m, params)(w, y);
    const fwd = await runOnnx(caflowToOnnx(m, params, { direction: 'forward' }), { W: w, Y: y });
    expect(record(`${variant} forward logp`, normalisedError(fwd['logp'], enc.logLikelihood))).toBeLessThan(TOL);
    const feeds: Record<string, tf.Tensor> = { Y: y };
    m.priors.forEach((_, i) =>
      priorLatents(m, i).forEach(({ scale }, j) => {
        expect(record(`${variant} forward z`, normalisedError(fwd[latentName(i, scale)], enc.z[i]![j]!))).toBeLessThan(TOL);
        feeds[latentName(i, scale)] = enc.z[i]![j]!;
      }),
    );
    const dec = fromLatents(m, params)(enc.z, y);
    const inv = await runOnnx(caflowToOnnx(m, params, { direction: 'inverse' }), feeds);
    expect(record(`${variant} inverse W`, normalisedError(inv['W'], dec.w))).toBeLessThan(TOL);
    expect(record(`${variant} inverse logp`, normalisedError(inv['logp'], dec.logLikelihood))).toBeLessThan(TOL);
    tf.dispose([w, y, enc.logLikelihood, ...enc.z.flat(), dec.w, dec.logLikelihood]);
    release(params);
  });
});
