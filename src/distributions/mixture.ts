/**
 * The tfjs passes of a `gaussianMixture` distribution (see GaussianMixtureSpec), not tidied:
 *
 *   log p(x) = logsumexp_k [ log softmax(logits)_k + sum_i log U_kii - |(x - mu_k) U_k|^2 / 2 - D log(2 pi) / 2 ]
 *
 * with U_k = strictUpper(precisionFactor_k) + diag(exp(diag precisionFactor_k)) (so U_k U_k^T is the
 * precision and (x - mu) U_k, a row times a matrix, is the whitened point). Sampling picks a component
 * by its weight (tf.multinomial, seeded), then x = mu_k + v with U_k^T v = eps, eps ~ N(0, I), solved
 * by forward substitution (D small steps, since no backend has a triangular solve). Sampling is
 * differentiable in the means and precision factors but not in the logits (a discrete choice).
 * Data-dependent initialisation runs EM (src/distributions/em.ts) on the data in float64.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamRecord, ParamTree } from '../dsl/params.js';
import { seededNormal } from '../interpreters/seeded-normal.js';
import { cholesky, fitGaussianMixture, type GaussianMixtureFit } from './em.js';
import type { GaussianMixtureSpec } from './spec.js';

const LOG_2PI = Math.log(2 * Math.PI);

const tensorIn = (params: ParamTree, name: string, path: string): tf.Tensor => {
  const t = (params as ParamRecord)[name];
  if (!(t instanceof tf.Tensor)) throw new TypeError(`distribution params: missing tensor '${path === '' ? name : `${path}.${name}`}'`);
  return t;
};

/** The shapes of a mixture's parameters. */
export const mixtureParamShapes = ({ shape: [d], components: k }: GaussianMixtureSpec): { logits: number[]; means: number[]; precisionFactor: number[] } => ({
  logits: [k],
  means: [k, d],
  precisionFactor: [k, d, d],
});

/** U [K,D,D] from the raw factor: strict upper triangle as is, exp of the diagonal, zeros below. */
const factorOf = (raw: tf.Tensor, d: number): { u: tf.Tensor3D; logDiag: tf.Tensor2D } => {
  const eye = tf.eye(d);
  const upper = tf.sub(tf.linalg.bandPart(tf.ones([d, d]), 0, -1), eye);
  const diag = tf.mul(raw, eye);
  const logDiag = tf.sum(diag, 2) as tf.Tensor2D; // [K,D]
  // exp of the diagonal only: exp of a large off-diagonal entry would be inf, and inf * 0 is NaN.
  const u = tf.add(tf.mul(raw, upper), tf.mul(eye, tf.exp(diag))) as tf.Tensor3D;
  return { u, logDiag };
};

/** Per-component log-densities [K,N] including the log weights. */
const componentTerms = (spec: GaussianMixtureSpec, params: ParamTree, x: tf.Tensor, path: string): tf.Tensor2D => {
  const d = spec.shape[0];
  const { u, logDiag } = factorOf(tensorIn(params, 'precisionFactor', path), d);
  const means = tensorIn(params, 'means', path);
  const diff = tf.transpose(tf.sub(tf.expandDims(x, 1), tf.expandDims(means, 0)), [1, 0, 2]) as tf.Tensor3D; // [K,N,D]
  const y = tf.matMul(diff, u); // [K,N,D]
  const quad = tf.sum(tf.square(y), 2); // [K,N]
  const logW = tf.logSoftmax(tensorIn(params, 'logits', path)); // [K]
  const constant = tf.sub(tf.add(logW, tf.sum(logDiag, 1)), 0.5 * d * LOG_2PI); // [K]
  return tf.sub(tf.expandDims(constant, 1), tf.mul(quad, 0.5)) as tf.Tensor2D;
};

/** log p(x) per row [N]. */
export const mixtureLogProb = (spec: GaussianMixtureSpec, params: ParamTree, x: tf.Tensor, path: string): tf.Tensor1D =>
  tf.logSumExp(componentTerms(spec, params, x, path), 0) as tf.Tensor1D;

/** n draws [n,D] (seeded: one seed for the choice of component, one for the noise). */
export const mixtureSample = (spec: GaussianMixtureSpec, params: ParamTree, n: number, nextSeed: () => number, path: string): tf.Tensor2D => {
  const d = spec.shape[0];
  const logits = tensorIn(params, 'logits', path);
  const choiceSeed = nextSeed();
  // tf.multinomial wants at least two outcomes.
  const choice = spec.components === 1 ? tf.zeros([n], 'int32') : (tf.reshape(tf.multinomial(tf.reshape(logits, [1, -1]) as tf.Tensor2D, n, choiceSeed), [n]) as tf.Tensor1D);
  const eps = seededNormal([n, d], 1, nextSeed()) as tf.Tensor2D;
  const u = tf.gather(factorOf(tensorIn(params, 'precisionFactor', path), d).u, choice); // [n,D,D]
  const mean = tf.gather(tensorIn(params, 'means', path), choice); // [n,D]
  // U^T v = eps, U^T lower triangular: v_i = (eps_i - sum_{j<i} U_ji v_j) / U_ii.
  const v: tf.Tensor1D[] = [];
  for (let i = 0; i < d; i += 1) {
    const col = tf.squeeze(tf.slice(u, [0, 0, i], [n, d, 1]), [2]) as tf.Tensor2D; // U_{.i} [n,D]
    let s = tf.squeeze(tf.slice(eps, [0, i], [n, 1]), [1]) as tf.Tensor1D;
    for (let j = 0; j < i; j += 1) s = tf.sub(s, tf.mul(tf.squeeze(tf.slice(col, [0, j], [n, 1]), [1]), v[j] as tf.Tensor1D));
    v.push(tf.div(s, tf.squeeze(tf.slice(col, [0, i], [n, 1]), [1])));
  }
  return tf.add(mean, tf.stack(v, 1)) as tf.Tensor2D;
};

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
