/**
 * Statistics over seeds (issue 15): mean and sample standard deviation of a metric per model, the
 * paired difference between two models (runs with the same seed paired), and the verdict, which
 * says one model is better only when the difference is outside its spread. Pure and browser-safe.
 *
 * The rule (docs/experiments.md, "Several seeds"): with d_i = a_i - b_i over the n seeds both models
 * were run with, d̄ their mean and s_d their sample standard deviation, the standard error of d̄ is
 *
 *   SE = sqrt(s_d^2 / n + sum_i (e_a,i^2 + e_b,i^2) / n^2)
 *
 * where e_a,i, e_b,i are the runs' own standard errors of the metric (for the NLL, its standard error
 * over the held-out pairs; 0 for metrics without one). A model is better only when the paired 95 %
 * t interval excludes 0: |d̄| > t(0.975, n - 1) · SE. Otherwise the difference is "within noise".
 * With one seed there is no spread across seeds: no verdict is given.
 */

/** Run names of a seed sweep end in `-s<seed>`: `mnist-sr-s3` is seed 3 of the model `mnist-sr`. */
const SEED_SUFFIX = /^(.+)-s(\d+)$/;

/** The model (name stem) and seed of a run name; a name without the suffix is its own model. */
export const parseRunName = (name: string): { readonly stem: string; readonly seed: number | undefined } => {
  const m = SEED_SUFFIX.exec(name);
  return m === null ? { stem: name, seed: undefined } : { stem: m[1] as string, seed: Number(m[2]) };
};

/** The run name of seed `seed` of the model `stem`. */
export const seedRunName = (stem: string, seed: number): string => `${stem}-s${seed}`;

/** Seeds of a sweep of `count` runs from `first`: first, first + 1, ... */
export const sweepSeeds = (first: number, count: number): number[] => Array.from({ length: count }, (_, i) => first + i);

export const mean = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
};

/** Sample standard deviation (n - 1 in the denominator); null for fewer than two values. */
export const sampleStd = (xs: readonly number[]): number | null => {
  if (xs.length < 2) return null;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) ** 2;
  return Math.sqrt(ss / (xs.length - 1));
};

export interface SeedSummary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation over seeds; null with one seed. */
  readonly std: number | null;
}

export const summarize = (xs: readonly number[]): SeedSummary => ({ n: xs.length, mean: mean(xs), std: sampleStd(xs) });

/** Two-sided 95 % quantiles t(0.975, df) of Student's t, df = 1..30 (scipy.stats.t.ppf). */
const T975 = [
  12.706204736, 4.30265273, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135, 2.262157163, 2.228138852, 2.20098516, 2.17881283,
  2.160368656, 2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.10092204, 2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.06865761, 2.063898562,
  2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
];

/** t(0.975, df): the table up to 30, then the Cornish-Fisher expansion (within 2e-5 of the exact value). */
export const tQuantile975 = (df: number): number => {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`tQuantile975: df must be a positive integer, got ${df}`);
  if (df <= T975.length) return T975[df - 1] as number;
  const z = 1.959963984540054;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
};

/** One run's value of a metric, with the run's own standard error of it when it has one. */
export interface SeedValue {
  readonly seed: number | undefined;
  readonly value: number;
  readonly standardError?: number;
}

export interface Paired {
  /** Seeds present in both models, in the order of `a`. */
  readonly seeds: ReadonlyArray<number | undefined>;
  readonly a: readonly SeedValue[];
  readonly b: readonly SeedValue[];
  /** Seeds of only one of the two models (left out of the comparison). */
  readonly unpaired: ReadonlyArray<number | undefined>;
}

/** Pairs the runs of two models by seed (runs without a seed pair with each other). */
export const pairBySeed = (a: readonly SeedValue[], b: readonly SeedValue[]): Paired => {
  const bySeed = new Map(b.map((v) => [v.seed, v]));
  const pa: SeedValue[] = [];
  const pb: SeedValue[] = [];
  for (const v of a) {
    const w = bySeed.get(v.seed);
    if (w !== undefined) {
      pa.push(v);
      pb.push(w);
    }
  }
  const paired = new Set(pa.map((v) => v.seed));
  const unpaired = [...a, ...b].map((v) => v.seed).filter((s) => !paired.has(s));
  return { seeds: pa.map((v) => v.seed), a: pa, b: pb, unpaired: [...new Set(unpaired)] };
};

/** a_i - b_i. */
export const pairedDifferences = (a: readonly number[], b: readonly number[]): number[] => {
  if (a.length !== b.length) throw new RangeError(`pairedDifferences: ${a.length} values against ${b.length}`);
  return a.map((x, i) => x - (b[i] as number));
};

export type Better = 'lower' | 'higher';

export interface Verdict {
  /**
   * 'a' or 'b' is better; 'within-noise'; 'single-seed' (one pair: no spread across seeds, no verdict);
   * 'not-finite' (a value or an own standard error is NaN or infinite, e.g. a diverged run: no verdict).
   */
  readonly kind: 'a' | 'b' | 'within-noise' | 'single-seed' | 'not-finite';
  /** Paired seeds. */
  readonly n: number;
  /** Mean of a_i - b_i. */
  readonly meanDifference: number;
  /** Sample standard deviation of a_i - b_i over seeds; null with one seed. */
  readonly std: number | null;
  /** Standard error of the mean difference, the runs' own errors included; null with one seed. */
  readonly standardError: number | null;
  /** Half-width of the 95 % interval, t(0.975, n - 1) · SE; null with one seed. */
  readonly halfWidth: number | null;
}

/**
 * The verdict on a_i - b_i (see the rule at the top of this file). `better` says which direction is
 * better for the metric; without one (e.g. diversity) the verdict names the larger model as 'a' or
 * 'b' all the same, and the caller words it as "higher", not "better".
 */
export const verdict = (a: readonly SeedValue[], b: readonly SeedValue[], better: Better = 'lower'): Verdict => {
  const d = pairedDifferences(
    a.map((v) => v.value),
    b.map((v) => v.value),
  );
  const n = d.length;
  const meanDifference = mean(d);
  const std = sampleStd(d);
  const finite = [...a, ...b].every((v) => Number.isFinite(v.value) && Number.isFinite(v.standardError ?? 0));
  if (!finite) return { kind: 'not-finite', n, meanDifference, std, standardError: null, halfWidth: null };
  if (std === null) return { kind: 'single-seed', n, meanDifference, std: null, standardError: null, halfWidth: null };
  let own = 0;
  for (let i = 0; i < n; i++) own += (a[i]?.standardError ?? 0) ** 2 + (b[i]?.standardError ?? 0) ** 2;
  const standardError = Math.sqrt((std * std) / n + own / (n * n));
  const halfWidth = tQuantile975(n - 1) * standardError;
  const outside = Math.abs(meanDifference) > halfWidth;
  const aBetter = better === 'lower' ? meanDifference < 0 : meanDifference > 0;
  return { kind: !outside ? 'within-noise' : aBetter ? 'a' : 'b', n, meanDifference, std, standardError, halfWidth };
};
