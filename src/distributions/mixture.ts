/**
 * A `gaussianMixture` base's parameters from an EM fit (src/distributions/em.ts, in float64): the
 * precision factor of a covariance, the parameters of a fit, and the data-dependent initialisation.
 * Its maths is its definition's (src/distributions/kinds/gaussian-mixture.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamRecord } from '../dsl/params.js';
import { seededNormal } from '../interpreters/seeded-normal.js';
import { cholesky, fitGaussianMixture, type GaussianMixtureFit } from './em.js';
import type { GaussianMixtureSpec } from './kinds/gaussian-mixture.js';

/** The raw precision factor of a covariance: U = C^-T for Sigma = C C^T, its diagonal as logs. */
export const precisionFactorOf = (cov: Float64Array, d: number): Float64Array => {
  const c = cholesky(cov, d);
  // inv = C^-1 (lower triangular), column by column by forward substitution.
  const inv = new Float64Array(d * d);
  for (let col = 0; col < d; col += 1) {
    for (let i = col; i < d; i += 1) {
      let s = i === col ? 1 : 0;
      for (let k = col; k < i; k += 1) s -= (c[i * d + k] as number) * (inv[k * d + col] as number);
      inv[i * d + col] = s / (c[i * d + i] as number);
    }
  }
  const raw = new Float64Array(d * d);
  for (let i = 0; i < d; i += 1) {
    for (let j = i; j < d; j += 1) {
      const uij = inv[j * d + i] as number; // U = inv^T
      raw[i * d + j] = i === j ? Math.log(uij) : uij;
    }
  }
  return raw;
};

/** A mixture's parameters from an EM fit (fewer fitted components than the spec's are padded with zero-weight copies). */
export const mixtureParamsOf = (spec: GaussianMixtureSpec, fit: Pick<GaussianMixtureFit, 'weights' | 'means' | 'covariances'>): ParamRecord => {
  const { components: k, shape: [d] } = spec;
  const pick = (i: number): number => (i < fit.weights.length ? i : 0);
  const logits = Array.from({ length: k }, (_, i) => (i < fit.weights.length ? Math.log(fit.weights[i] as number) : -1e4));
  const means = Array.from({ length: k }, (_, i) => Array.from(fit.means[pick(i)] as Float64Array));
  const raw = Array.from({ length: k }, (_, i) => Array.from(precisionFactorOf(fit.covariances[pick(i)] as Float64Array, d)));
  return { logits: tf.tensor1d(logits), means: tf.tensor2d(means.flat(), [k, d]), precisionFactor: tf.tensor3d(raw.flat(), [k, d, d]) };
};

/** Fresh parameters: EM on `data` (rows [N,D]) when given, otherwise equal weights, means ~ N(0, I) (seeded) and unit precisions. */
export const initMixture = (spec: GaussianMixtureSpec, seed: number, data: tf.Tensor | undefined): ParamRecord => {
  const { components: k, shape: [d] } = spec;
  if (data === undefined || (data.shape[0] ?? 0) === 0) {
    return { logits: tf.zeros([k]), means: seededNormal([k, d], 1, seed), precisionFactor: tf.zeros([k, d, d]) };
  }
  const rows = Float64Array.from(data.dataSync());
  return mixtureParamsOf(spec, fitGaussianMixture(rows, d, k, { seed }));
};
