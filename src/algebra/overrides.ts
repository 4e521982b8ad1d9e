/**
 * The tfjs engine's overrides: the kinds whose tfjs passes are hand-written rather than derived from
 * maths on the op algebra (`algebraic`), each with the reason. Every other registered kind has an
 * `algebra` (test/algebra-kinds.test.ts checks both ways), and each override is checked against its
 * own dense Jacobian by `verify` (test/properties.test.ts, test/verify-depth.test.ts).
 */
export const tfjsOverrides = {
  inv1x1:
    'log|det W| and W^-1 are computed in float64 JavaScript (an LU factorisation on the CPU, cached per weight tensor) with a custom gradient (Jacobi\'s formula): no tfjs op computes them, and float32 would lose the log-det of an ill-conditioned W',
  inv1x1LU:
    'the inverse pass needs W^-1, computed in float64 JavaScript and cached per set of factor tensors (the log-det, positions * sum(logS), is param-only)',
} as const;

/** A kind the tfjs engine runs by hand-written passes. */
export type TfjsOverrideKind = keyof typeof tfjsOverrides;
