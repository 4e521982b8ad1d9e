/**
 * Dense float64 linear algebra that src/interpreters/linalg.ts (LU, slogdet, inverse, matmul) lacks:
 * the symmetric eigen-decomposition and the singular values that FID needs (src/metrics/fid.ts), by
 * Jacobi rotations, and the trace. Matrices are row-major Float64Arrays. These belong in linalg.ts
 * beside the rest; they live here only while that file is being rewritten elsewhere.
 */

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

