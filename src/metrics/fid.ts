/**
 * The Fréchet distance between Gaussians fitted to two sets of feature vectors (FID when the features
 * are InceptionV3 pool3 activations; Heusel et al. 2017), in float64 in plain JS:
 *
 *   d^2 = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^{1/2})
 *
 * with unbiased covariances (divide by n - 1, as numpy.cov). Tr((S1 S2)^{1/2}) is the sum of the square
 * roots of the eigenvalues of S1 S2, which are those of the symmetric PSD S1^{1/2} S2 S1^{1/2}; tiny
 * negative eigenvalues from rounding are clamped to 0. Eigenvalues come from cyclic Jacobi rotations.
 *
 * From features (fid) with fewer samples than features, the work is done in sample space: with A the
 * centred n x d matrices, S1 S2 has the same non-zero eigenvalues as M M^T / ((n1-1)(n2-1)) with
 * M = A1 A2^T (n1 x n2), so Tr((S1 S2)^{1/2}) is the sum of M's singular values over sqrt((n1-1)(n2-1)):
 * a few hundred samples of 2048-d features need a few-hundred-square problem, not a 2048-square one,
 * and the many zero eigenvalues of their rank-deficient covariances never pass through a square root.
 *
 * FID is biased upwards at small n (the estimate of Tr S1 S2's root is), so numbers from a few hundred
 * samples compare only with numbers from the same n and the same feature model.
 *
 * Dense linear algebra (products, eigenvalues, singular values) from src/dsl/maths/linalg.ts, the one
 * dense linear-algebra module.
 */
import { matmul, singularValues, symmetricEigen, trace } from '../dsl/maths/linalg.js';

export { singularValues, symmetricEigen };

/** n feature vectors of dimension d, row-major. */
export interface FeatureMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array | Float64Array;
}

export interface GaussianStats {
  readonly dim: number;
  readonly mean: Float64Array;
  /** dim x dim, row-major, symmetric. */
  readonly cov: Float64Array;
}

const checkMatrix = (what: string, f: FeatureMatrix): void => {
  if (!Number.isInteger(f.rows) || !Number.isInteger(f.cols) || f.cols < 1 || f.data.length !== f.rows * f.cols)
    throw new RangeError(`${what}: ${f.data.length} values do not form ${f.rows} rows of ${f.cols} features`);
  if (f.rows < 2) throw new RangeError(`${what}: need at least 2 feature vectors for a covariance, got ${f.rows}`);
  for (const v of f.data) if (!Number.isFinite(v)) throw new RangeError(`${what}: features contain ${v}`);
};

/** Centred copy (float64) and the mean. */
const centre = (f: FeatureMatrix): { a: Float64Array; mean: Float64Array } => {
  const { rows: n, cols: d, data } = f;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (data[i * d + j] as number);
  for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) / n;
  const a = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) a[i * d + j] = (data[i * d + j] as number) - (mean[j] as number);
  return { a, mean };
};

/** Mean and unbiased covariance of the rows. */
export const gaussianStats = (f: FeatureMatrix): GaussianStats => {
  checkMatrix('gaussianStats', f);
  const { rows: n, cols: d } = f;
  const { a, mean } = centre(f);
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let p = 0; p < d; p++) {
      const ap = a[row + p] as number;
      if (ap === 0) continue;
      for (let q = p; q < d; q++) cov[p * d + q] = (cov[p * d + q] as number) + ap * (a[row + q] as number);
    }
  }
  for (let p = 0; p < d; p++)
    for (let q = p; q < d; q++) {
      const v = (cov[p * d + q] as number) / (n - 1);
      cov[p * d + q] = v;
      cov[q * d + p] = v;
    }
  return { dim: d, mean, cov };
};

const sumSqrtClamped = (values: Float64Array): number => {
  let s = 0;
  for (const x of values) s += Math.sqrt(Math.max(0, x));
  return s;
};

/** Tr((S1 S2)^{1/2}) in feature space: eigenvalues of S1^{1/2} S2 S1^{1/2}. */
const traceSqrtProduct = (s1: Float64Array, s2: Float64Array, d: number): number => {
  const { values, vectors } = symmetricEigen(s1, d);
  // S1^{1/2} = V diag(sqrt(max(l, 0))) V^T.
  const root = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const r = Math.sqrt(Math.max(0, values[k] as number));
    if (r === 0) continue;
    for (let i = 0; i < d; i++) {
      const vik = (vectors[i * d + k] as number) * r;
      for (let j = 0; j < d; j++) root[i * d + j] = (root[i * d + j] as number) + vik * (vectors[j * d + k] as number);
    }
  }
  const m = matmul(matmul(root, s2, d), root, d);
  // Symmetrise: the product is symmetric in exact arithmetic, Jacobi reads only what it rotates.
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) {
      const x = ((m[i * d + j] as number) + (m[j * d + i] as number)) / 2;
      m[i * d + j] = x;
      m[j * d + i] = x;
    }
  return sumSqrtClamped(symmetricEigen(m, d).values);
};

const meanGap = (m1: Float64Array, m2: Float64Array): number => {
  let s = 0;
  for (let j = 0; j < m1.length; j++) s += ((m1[j] as number) - (m2[j] as number)) ** 2;
  return s;
};

/** Fréchet distance between two Gaussians given by their statistics. */
export const frechetDistance = (g1: GaussianStats, g2: GaussianStats): number => {
  if (g1.dim !== g2.dim) throw new RangeError(`frechetDistance: dimensions differ (${g1.dim} vs ${g2.dim})`);
  const d = g1.dim;
  if (g1.mean.length !== d || g2.mean.length !== d || g1.cov.length !== d * d || g2.cov.length !== d * d)
    throw new RangeError(`frechetDistance: statistics do not match their dimension ${d}`);
  return meanGap(g1.mean, g2.mean) + trace(g1.cov, d) + trace(g2.cov, d) - 2 * traceSqrtProduct(g1.cov, g2.cov, d);
};

/**
 * Tr((S1 S2)^{1/2}) from the centred samples: S1 S2 has the non-zero eigenvalues of M M^T / c with
 * M = A1 A2^T and c = (n1-1)(n2-1), so the trace is the sum of M's singular values over sqrt(c).
 */
const traceSqrtProductFromSamples = (a1: Float64Array, n1: number, a2: Float64Array, n2: number, d: number): number => {
  // Rotate the rows of the shorter side of M (n1 x n2 or its transpose): same singular values.
  const [x, nx, y, ny] = n1 <= n2 ? [a1, n1, a2, n2] : [a2, n2, a1, n1];
  const m = new Float64Array(nx * ny);
  for (let i = 0; i < nx; i++)
    for (let j = 0; j < ny; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (x[i * d + k] as number) * (y[j * d + k] as number);
      m[i * ny + j] = s;
    }
  return singularValues(m, nx, ny).reduce((t, v) => t + v, 0) / Math.sqrt((n1 - 1) * (n2 - 1));
};

const sumSquares = (a: Float64Array): number => {
  let s = 0;
  for (const x of a) s += x * x;
  return s;
};

export interface FidOptions {
  /**
   * Where to work: 'samples' (n x n problems, exact also for the rank-deficient covariances of n <= d
   * samples), 'features' (d x d, via S1^{1/2}; loses about half the digits of eigenvalues that should
   * be 0, so use it with full-rank covariances), or 'auto' (the default): samples when n < d.
   */
  readonly space?: 'auto' | 'samples' | 'features';
}

/** The Fréchet distance between Gaussians fitted to two feature sets (rows are samples). */
export const fid = (f1: FeatureMatrix, f2: FeatureMatrix, o: FidOptions = {}): number => {
  checkMatrix('FID (first set)', f1);
  checkMatrix('FID (second set)', f2);
  if (f1.cols !== f2.cols) throw new RangeError(`FID: the feature sets have ${f1.cols} and ${f2.cols} features per sample`);
  const d = f1.cols;
  const space = o.space ?? 'auto';
  if (space === 'features' || (space === 'auto' && Math.min(f1.rows, f2.rows) >= d)) return frechetDistance(gaussianStats(f1), gaussianStats(f2));
  const c1 = centre(f1);
  const c2 = centre(f2);
  const tr1 = sumSquares(c1.a) / (f1.rows - 1);
  const tr2 = sumSquares(c2.a) / (f2.rows - 1);
  return meanGap(c1.mean, c2.mean) + tr1 + tr2 - 2 * traceSqrtProductFromSamples(c1.a, f1.rows, c2.a, f2.rows, d);
};
