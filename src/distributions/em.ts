/**
 * Gaussian mixtures with full covariances fitted by expectation-maximisation, in float64 on plain
 * arrays (small dimensions; the baseline every density fit is compared with, and `fit --flow gmm`).
 *
 * - Seeding: k-means++ (Arthur and Vassilvitskii 2007) with a seeded generator picks k rows as the
 *   first means; every row goes to its nearest mean, and each component starts at its rows' weight,
 *   mean and covariance. So a fit is deterministic in (data, k, seed).
 * - EM: the E-step computes responsibilities r_ik proportional to w_k N(x_i; mu_k, Sigma_k) (in log
 *   space, with Cholesky factors); the M-step sets w_k = mean_i r_ik, mu_k the r-weighted mean and
 *   Sigma_k the r-weighted covariance plus `reg` * I (scikit-learn's reg_covar, so a component on a few
 *   rows cannot collapse). It stops when the mean log-likelihood per row improves by less than `tol`.
 * - `selectGaussianMixture` fits k = 1..kMax on training rows and keeps the k with the best mean
 *   log-likelihood on validation rows.
 *
 * Rows are one Float64Array (n * d, row-major). Log-densities are in nats.
 */
import { LOG_2PI } from '../algebra/normal.js';
import { seededRandom } from '../dsl/random.js';

/** A fitted mixture: weights [k], means [k][d], covariances [k][d*d] (row-major). */
export interface GaussianMixtureFit {
  readonly weights: readonly number[];
  readonly means: readonly Float64Array[];
  readonly covariances: readonly Float64Array[];
  /** Mean log-likelihood per training row at the end. */
  readonly logLikelihood: number;
  readonly iterations: number;
  readonly converged: boolean;
}

/** Options of the EM fit of a Gaussian mixture. */
export interface EmOptions {
  /** Seed of the k-means++ draws. Default 0. */
  readonly seed?: number;
  /** Maximum EM iterations. Default 200. */
  readonly maxIterations?: number;
  /** Stop when the mean log-likelihood per row improves by less than this. Default 1e-6. */
  readonly tol?: number;
  /** Added to each covariance's diagonal (in the data's squared units). Default 1e-6. */
  readonly reg?: number;
}

/** The lower Cholesky factor of a symmetric positive-definite d x d matrix (row-major); throws if not positive definite. */
export const cholesky = (a: Float64Array, d: number): Float64Array => {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i += 1) {
    for (let j = 0; j <= i; j += 1) {
      let s = a[i * d + j] as number;
      for (let k = 0; k < j; k += 1) s -= (l[i * d + k] as number) * (l[j * d + k] as number);
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`cholesky: the matrix is not positive definite (pivot ${s} at ${i})`);
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / (l[j * d + j] as number);
    }
  }
  return l;
};

/** A component's log N(x; mean, cov) as a function of a row, through its Cholesky factor. */
const gaussianLogDensity = (mean: Float64Array, cov: Float64Array, d: number): ((x: Float64Array, offset: number) => number) => {
  const l = cholesky(cov, d);
  let logDet = 0;
  for (let i = 0; i < d; i += 1) logDet += 2 * Math.log(l[i * d + i] as number);
  const z = new Float64Array(d);
  const constant = -0.5 * (d * LOG_2PI + logDet);
  return (x, offset) => {
    // Forward substitution: z = L^-1 (x - mean), so z.z is the Mahalanobis distance.
    let q = 0;
    for (let i = 0; i < d; i += 1) {
      let s = (x[offset + i] as number) - (mean[i] as number);
      for (let k = 0; k < i; k += 1) s -= (l[i * d + k] as number) * (z[k] as number);
      const zi = s / (l[i * d + i] as number);
      z[i] = zi;
      q += zi * zi;
    }
    return constant - 0.5 * q;
  };
};

const logSumExp = (v: Float64Array): number => {
  let m = -Infinity;
  for (const x of v) if (x > m) m = x;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
};

/** log p(x) of every row under the mixture [n]. */
export const mixtureLogDensities = (m: Pick<GaussianMixtureFit, 'weights' | 'means' | 'covariances'>, rows: Float64Array, d: number): Float64Array => {
  const n = rows.length / d;
  const comps = m.means.map((mu, k) => gaussianLogDensity(mu, m.covariances[k] as Float64Array, d));
  const logW = m.weights.map((w) => Math.log(w));
  const out = new Float64Array(n);
  const terms = new Float64Array(comps.length);
  for (let i = 0; i < n; i += 1) {
    comps.forEach((c, k) => (terms[k] = (logW[k] as number) + c(rows, i * d)));
    out[i] = logSumExp(terms);
  }
  return out;
};

const squaredDistance = (rows: Float64Array, i: number, c: Float64Array, d: number): number => {
  let s = 0;
  for (let j = 0; j < d; j += 1) s += ((rows[i * d + j] as number) - (c[j] as number)) ** 2;
  return s;
};

/** k-means++: k rows drawn, each with probability proportional to its squared distance to the nearest already chosen. */
const kMeansPlusPlus = (rows: Float64Array, d: number, k: number, random: () => number): Float64Array[] => {
  const n = rows.length / d;
  const row = (i: number): Float64Array => rows.slice(i * d, (i + 1) * d);
  const centres = [row(Math.min(n - 1, Math.floor(random() * n)))];
  const nearest = new Float64Array(n).fill(Infinity);
  while (centres.length < k) {
    const last = centres[centres.length - 1] as Float64Array;
    let total = 0;
    for (let i = 0; i < n; i += 1) {
      nearest[i] = Math.min(nearest[i] as number, squaredDistance(rows, i, last, d));
      total += nearest[i] as number;
    }
    if (!(total > 0)) break; // fewer distinct rows than k: the rest would duplicate a centre
    let u = random() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i += 1) {
      u -= nearest[i] as number;
      if (u <= 0) {
        pick = i;
        break;
      }
    }
    centres.push(row(pick));
  }
  return centres;
};

/** M-step from responsibilities resp [n * k]: weights, means, covariances (+ reg I). Components with no weight are dropped. */
const mStep = (rows: Float64Array, d: number, resp: Float64Array, k: number, reg: number): Pick<GaussianMixtureFit, 'weights' | 'means' | 'covariances'> => {
  const n = rows.length / d;
  const weights: number[] = [];
  const means: Float64Array[] = [];
  const covariances: Float64Array[] = [];
  for (let c = 0; c < k; c += 1) {
    let nk = 0;
    const mu = new Float64Array(d);
    for (let i = 0; i < n; i += 1) {
      const r = resp[i * k + c] as number;
      nk += r;
      for (let j = 0; j < d; j += 1) mu[j] = (mu[j] as number) + r * (rows[i * d + j] as number);
    }
    if (!(nk > 1e-10 * n)) continue;
    for (let j = 0; j < d; j += 1) mu[j] = (mu[j] as number) / nk;
    const cov = new Float64Array(d * d);
    for (let i = 0; i < n; i += 1) {
      const r = resp[i * k + c] as number;
      if (r === 0) continue;
      for (let a = 0; a < d; a += 1) {
        const da = (rows[i * d + a] as number) - (mu[a] as number);
        for (let b = 0; b <= a; b += 1) cov[a * d + b] = (cov[a * d + b] as number) + r * da * ((rows[i * d + b] as number) - (mu[b] as number));
      }
    }
    for (let a = 0; a < d; a += 1) {
      for (let b = 0; b <= a; b += 1) {
        const v = (cov[a * d + b] as number) / nk + (a === b ? reg : 0);
        cov[a * d + b] = v;
        cov[b * d + a] = v;
      }
    }
    weights.push(nk / n);
    means.push(mu);
    covariances.push(cov);
  }
  return { weights, means, covariances };
};

/** E-step: responsibilities [n * k] and the mean log-likelihood per row. */
const eStep = (m: Pick<GaussianMixtureFit, 'weights' | 'means' | 'covariances'>, rows: Float64Array, d: number): { resp: Float64Array; logLikelihood: number } => {
  const n = rows.length / d;
  const k = m.weights.length;
  const comps = m.means.map((mu, c) => gaussianLogDensity(mu, m.covariances[c] as Float64Array, d));
  const logW = m.weights.map((w) => Math.log(w));
  const resp = new Float64Array(n * k);
  const terms = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < n; i += 1) {
    comps.forEach((c, j) => (terms[j] = (logW[j] as number) + c(rows, i * d)));
    const lse = logSumExp(terms);
    total += lse;
    for (let j = 0; j < k; j += 1) resp[i * k + j] = Math.exp((terms[j] as number) - lse);
  }
  return { resp, logLikelihood: total / n };
};

/**
 * A k-component full-covariance Gaussian mixture fitted to `rows` (n * d, row-major) by EM from a
 * k-means++ start (see the file comment). Deterministic in (rows, k, seed).
 */
export const fitGaussianMixture = (rows: Float64Array, d: number, k: number, options: EmOptions = {}): GaussianMixtureFit => {
  const n = rows.length / d;
  if (!(Number.isInteger(d) && d >= 1 && Number.isInteger(n) && n >= 1)) throw new RangeError(`fitGaussianMixture: ${rows.length} numbers are not rows of ${d}`);
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`fitGaussianMixture: k must be a positive integer, got ${k}`);
  const { seed = 0, maxIterations = 200, tol = 1e-6, reg = 1e-6 } = options;
  const centres = kMeansPlusPlus(rows, d, Math.min(k, n), seededRandom(seed));
  // Hard assignment to the nearest centre as the first responsibilities.
  const kk = centres.length;
  let resp: Float64Array = new Float64Array(n * kk);
  for (let i = 0; i < n; i += 1) {
    let best = 0;
    let bestDist = Infinity;
    centres.forEach((c, j) => {
      const dist = squaredDistance(rows, i, c, d);
      if (dist < bestDist) {
        bestDist = dist;
        best = j;
      }
    });
    resp[i * kk + best] = 1;
  }
  let model = mStep(rows, d, resp, kk, reg);
  let previous = -Infinity;
  let logLikelihood = -Infinity;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    const e = eStep(model, rows, d);
    logLikelihood = e.logLikelihood;
    iterations += 1;
    if (logLikelihood - previous < tol) {
      converged = true;
      break;
    }
    previous = logLikelihood;
    resp = e.resp;
    model = mStep(rows, d, resp, model.weights.length, reg);
  }
  return { ...model, logLikelihood, iterations, converged };
};

/** Mean and standard error of the negative of per-row log-densities: the NLL estimate of a held-out set. */
export const nllWithError = (logDensities: ArrayLike<number>): { readonly nll: number; readonly standardError: number; readonly rows: number } => {
  const n = logDensities.length;
  let s = 0;
  for (let i = 0; i < n; i += 1) s += logDensities[i] as number;
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i += 1) v += ((logDensities[i] as number) - mean) ** 2;
  return { nll: -mean, standardError: n > 1 ? Math.sqrt(v / (n - 1) / n) : Number.NaN, rows: n };
};

/** The Gaussian mixture chosen over k = 1..kMax on validation rows, with every k's validation NLL. */
export interface MixtureSelection {
  readonly best: GaussianMixtureFit;
  readonly k: number;
  /** Validation NLL (nats per row) of each k tried, k = 1.. in order. */
  readonly validationNll: readonly number[];
}

/** Fits k = 1..kMax on `train` and keeps the k with the lowest validation NLL (ties: the smaller k). */
export const selectGaussianMixture = (train: Float64Array, validation: Float64Array, d: number, kMax = 10, options: EmOptions = {}): MixtureSelection => {
  let best: { fit: GaussianMixtureFit; k: number; nll: number } | undefined;
  const scores: number[] = [];
  for (let k = 1; k <= kMax; k += 1) {
    const fit = fitGaussianMixture(train, d, k, options);
    const nll = nllWithError(mixtureLogDensities(fit, validation, d)).nll;
    scores.push(nll);
    if (best === undefined || nll < best.nll) best = { fit, k, nll };
  }
  const chosen = best as { fit: GaussianMixtureFit; k: number };
  return { best: chosen.fit, k: chosen.k, validationNll: scores };
};
