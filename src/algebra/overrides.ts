/**
 * The tfjs engine's overrides: the kinds whose tfjs passes are hand-written rather than derived from
 * maths on the op algebra (`algebraic`), each with the reason. Every other registered kind has an
 * `algebra` (test/dsl/algebra-kinds.test.ts checks both ways), and each override is checked against its
 * own dense Jacobian by `verify` (test/dsl/properties.test.ts, test/dsl/verify-depth.test.ts).
 */
export const tfjsOverrides = {
  inv1x1LU:
    'the inverse pass needs W^-1 cached per set of factor tensors (L, U, logS, P, sign), so that sampling k times factorises once: through the algebra W would be rebuilt as a new tensor each pass and miss the cache (the forward pass and log-det, positions * sum(logS), are param-only maths that could move to the algebra)',
} as const;

/** A kind the tfjs engine runs by hand-written passes. */
export type TfjsOverrideKind = keyof typeof tfjsOverrides;
