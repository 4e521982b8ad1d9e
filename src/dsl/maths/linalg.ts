/**
 * Small dense linear algebra in float64 JS, the project's one such module. tfjs has no det, slogdet,
 * inverse, LU or eigen-decomposition on any backend, and the matrices here are C x C channel mixers
 * (C at most a few hundred) and FID's feature covariances, so the CPU does them exactly. Matrices are
 * row-major Float64Arrays.
 */

export interface LU {
  /** Packed factors: strictly lower part holds L (unit diagonal implied), upper part holds U. */
  readonly lu: Float64Array;
  /** Row permutation: row i of P A is row perm[i] of A. */
  readonly perm: Int32Array;
  /** +1 or -1: the sign of the permutation. */
  readonly parity: number;
  readonly n: number;
}

/** LU decomposition with partial pivoting: P A = L U. */
export const luDecompose = (a: ArrayLike<number>, n: number): LU => {
  const lu = Float64Array.from(a);
  const perm = new Int32Array(n).map((_, i) => i);
  let parity = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(lu[k * n + k] as number);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k] as number);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j] as number;
        lu[k * n + j] = lu[p * n + j] as number;
        lu[p * n + j] = t;
      }
      const t = perm[k] as number;
      perm[k] = perm[p] as number;
      perm[p] = t;
      parity = -parity;
    }
    const pivot = lu[k * n + k] as number;
    if (pivot === 0) continue;
    const rowK = k * n;
    // Two rows at a time, so each entry of row k is loaded once per two updates (1.4-2x faster in V8).
    let i = k + 1;
    for (; i + 1 < n; i += 2) {
      const r0 = i * n;
      const r1 = r0 + n;
      const f0 = (lu[r0 + k] as number) / pivot;
      const f1 = (lu[r1 + k] as number) / pivot;
      lu[r0 + k] = f0;
      lu[r1 + k] = f1;
      for (let j = k + 1; j < n; j++) {
        const u = lu[rowK + j] as number;
        lu[r0 + j] = (lu[r0 + j] as number) - f0 * u;
        lu[r1 + j] = (lu[r1 + j] as number) - f1 * u;
      }
    }
    for (; i < n; i++) {
      const rowI = i * n;
      const f = (lu[rowI + k] as number) / pivot;
      lu[rowI + k] = f;
      for (let j = k + 1; j < n; j++) lu[rowI + j] = (lu[rowI + j] as number) - f * (lu[rowK + j] as number);
    }
  }
  return { lu, perm, parity, n };
};

/** sign(det A) and log|det A| from A's LU factors; sign 0 and -Infinity for a singular matrix. */
export const slogdetFromLU = ({ lu, parity, n }: LU): { sign: number; logAbsDet: number } => {
  let sign = parity;
  let logAbsDet = 0;
  for (let i = 0; i < n; i++) {
    const d = lu[i * n + i] as number;
    if (d === 0) return { sign: 0, logAbsDet: -Infinity };
    sign *= Math.sign(d);
    logAbsDet += Math.log(Math.abs(d));
  }
  return { sign, logAbsDet };
};

/** sign(det A) and log|det A|; sign 0 and -Infinity for a singular matrix. */
export const slogdet = (a: ArrayLike<number>, n: number): { sign: number; logAbsDet: number } => slogdetFromLU(luDecompose(a, n));

/**
 * A^-1 = U^-1 L^-1 P from A's LU factors; throws on a singular matrix. L^-1 is lower triangular, so
 * it is solved for first (n^3/6 multiply-adds), then U^-1 L^-1 (n^3/2), and P only moves columns:
 * column perm[k] of A^-1 is column k of U^-1 L^-1. Both solves update whole rows
 * (X[i,:] -= f X[k,:]), so the inner loops walk memory contiguously.
 */
export const inverseFromLU = ({ lu, perm, n }: LU): Float64Array => {
  for (let i = 0; i < n; i++) {
    if (lu[i * n + i] === 0) throw new RangeError('matrix is singular and has no inverse');
  }
  // X = L^-1 (unit lower triangle): row i is e_i minus its multiples of the rows above; zero past i.
  const x = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    x[rowI + i] = 1;
    for (let k = 0; k < i; k++) {
      const f = lu[rowI + k] as number;
      if (f === 0) continue;
      const rowK = k * n;
      for (let j = 0; j <= k; j++) x[rowI + j] = (x[rowI + j] as number) - f * (x[rowK + j] as number);
    }
  }
  // X = U^-1 X: back substitution, last row first. Four rows k at a time, so row i is loaded and
  // stored once per four updates: 1.5x faster in V8 (the n^3/2 multiply-adds here dominate).
  for (let i = n - 1; i >= 0; i--) {
    const rowI = i * n;
    let k = i + 1;
    for (; k + 3 < n; k += 4) {
      const f0 = lu[rowI + k] as number;
      const f1 = lu[rowI + k + 1] as number;
      const f2 = lu[rowI + k + 2] as number;
      const f3 = lu[rowI + k + 3] as number;
      const r0 = k * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      for (let j = 0; j < n; j++) {
        x[rowI + j] = (x[rowI + j] as number) - (f0 * (x[r0 + j] as number) + f1 * (x[r1 + j] as number) + f2 * (x[r2 + j] as number) + f3 * (x[r3 + j] as number));
      }
    }
    for (; k < n; k++) {
      const f = lu[rowI + k] as number;
      const rowK = k * n;
      for (let j = 0; j < n; j++) x[rowI + j] = (x[rowI + j] as number) - f * (x[rowK + j] as number);
    }
    const d = lu[rowI + i] as number;
    for (let j = 0; j < n; j++) x[rowI + j] = (x[rowI + j] as number) / d;
  }
  // Times P on the right: column k moves to column perm[k].
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) inv[i * n + (perm[k] as number)] = x[i * n + k] as number;
  return inv;
};

/** A^-1 by LU; throws on a singular matrix. */
export const invert = (a: ArrayLike<number>, n: number): Float64Array => inverseFromLU(luDecompose(a, n));

export const transpose = (a: ArrayLike<number>, n: number): Float64Array => {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j] as number;
  return t;
};

export const matmul = (a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array => {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k] as number;
      for (let j = 0; j < n; j++) c[i * n + j] = (c[i * n + j] as number) + aik * (b[k * n + j] as number);
    }
  return c;
};

/** A random orthogonal matrix: Gram-Schmidt (twice, for stability) on a standard normal matrix. */
export const randomOrthogonal = (n: number, random: () => number): Float64Array => {
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  for (;;) {
    const q = Float64Array.from({ length: n * n }, normal);
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < i; k++) {
          let dot = 0;
          for (let j = 0; j < n; j++) dot += (q[i * n + j] as number) * (q[k * n + j] as number);
          for (let j = 0; j < n; j++) q[i * n + j] = (q[i * n + j] as number) - dot * (q[k * n + j] as number);
        }
      }
      let norm = 0;
      for (let j = 0; j < n; j++) norm += (q[i * n + j] as number) ** 2;
      norm = Math.sqrt(norm);
      if (norm < 1e-6) ok = false;
      for (let j = 0; j < n; j++) q[i * n + j] = (q[i * n + j] as number) / norm;
    }
    if (ok) return q;
  }
};

// ---------------------------------------------------------------------------------------------
// Symmetric eigen-decomposition and singular values by Jacobi rotations (for FID, src/metrics/fid.ts)

/** Sum of the diagonal of an n x n matrix. */
export const trace = (m: Float64Array, n: number): number => {
  let t = 0;
  for (let i = 0; i < n; i++) t += m[i * n + i] as number;
  return t;
};

/**
 * The Jacobi rotation that zeroes the off-diagonal term of [[alpha, gamma], [gamma, beta]]:
 * zeta = (beta - alpha) / (2 gamma), t = tan of the angle (the smaller root), c = cos, s = sin.
 */
const jacobiRotation = (zeta: number): { c: number; s: number } => {
  const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(zeta * zeta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  return { c, s: t * c };
};

/** (x, y) <- (c x - s y, s x + c y) for the `count` pairs a[first + k stride], a[second + k stride]. */
const rotatePairs = (a: Float64Array, first: number, second: number, stride: number, count: number, c: number, s: number): void => {
  for (let k = 0; k < count; k++) {
    const x = a[first + k * stride] as number;
    const y = a[second + k * stride] as number;
    a[first + k * stride] = c * x - s * y;
    a[second + k * stride] = s * x + c * y;
  }
};

/**
 * Eigen-decomposition of a symmetric n x n matrix (row-major; not modified) by cyclic Jacobi rotations:
 * values (unsorted) and the eigenvectors as the columns of `vectors`.
 */
export const symmetricEigen = (matrix: Float64Array, n: number, maxSweeps = 60): { values: Float64Array; vectors: Float64Array } => {
  if (matrix.length !== n * n) throw new RangeError(`symmetricEigen: ${matrix.length} values are not a ${n}x${n} matrix`);
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (const x of a) total += x * x;
  // Off-diagonal entries below this are dropped: they move an eigenvalue by at most about n times as
  // much (Weyl), far below float64 rounding of the matrix itself (~1e-16 of its norm).
  const negligible = 1e-18 * Math.sqrt(total);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (Math.abs(apq) <= negligible) {
          a[p * n + q] = 0;
          a[q * n + p] = 0;
          continue;
        }
        rotated = true;
        const { c, s } = jacobiRotation(((a[q * n + q] as number) - (a[p * n + p] as number)) / (2 * apq));
        // A <- J^T A J: columns p, q, then rows p, q; V <- V J.
        rotatePairs(a, p, q, n, n, c, s);
        rotatePairs(a, p * n, q * n, 1, n, c, s);
        a[p * n + q] = 0;
        a[q * n + p] = 0;
        rotatePairs(v, p, q, n, n, c, s);
      }
    }
    if (!rotated) break;
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i] as number;
  return { values, vectors: v };
};

/**
 * Singular values of a rows x cols matrix (row-major; not modified) by one-sided Jacobi: rotate pairs
 * of rows until all are orthogonal; the row norms are then the singular values. Unlike the eigenvalues
 * of M M^T, zero singular values come out at rounding level (eps |M|), not at its square root.
 */
export const singularValues = (matrix: Float64Array, rows: number, cols: number, maxSweeps = 60): Float64Array => {
  if (matrix.length !== rows * cols) throw new RangeError(`singularValues: ${matrix.length} values are not a ${rows}x${cols} matrix`);
  const m = Float64Array.from(matrix);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let i = 0; i < rows; i++) {
      for (let j = i + 1; j < rows; j++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let k = 0; k < cols; k++) {
          const x = m[i * cols + k] as number;
          const y = m[j * cols + k] as number;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        // Orthogonal to working precision: rotating further would only stir rounding noise.
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const { c, s } = jacobiRotation((beta - alpha) / (2 * gamma));
        rotatePairs(m, i * cols, j * cols, 1, cols, c, s);
      }
    }
    if (!rotated) break;
  }
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let n = 0;
    for (let k = 0; k < cols; k++) n += (m[i * cols + k] as number) ** 2;
    out[i] = Math.sqrt(n);
  }
  return out;
};

