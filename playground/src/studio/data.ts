/**
 * The studio's data, free of the DOM: the 2-D toys (the benchmark's own generators,
 * bench/density-data.ts), CSV text read into rows, and the train/validation split `fit` will make.
 */
import { checkerboard, eightGaussians, rings, spirals, studentT, twoMoons, type Toy } from '../../../bench/density-data.js';
import { distributions } from '../../../src/index.js';

/** The toys offered, by the name in the page's menu. */
export const toys: Readonly<Record<string, Toy>> = { moons: twoMoons, rings, checkerboard, spirals, 'Student-t (heavy tails)': studentT, 'eight Gaussians': eightGaussians };

/** n rows of a toy, x and y interleaved. */
export const toyRows = (toy: Toy, n: number, seed: number): Float32Array => Float32Array.from(toy.sample(n, seed).flat());

/**
 * Rows of CSV (or whitespace-separated) text: two numbers a line; a first line that is not numbers is
 * a header, blank lines are skipped. Throws with the line of the first bad row.
 */
export const parseCsv = (text: string): Float32Array => {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const values: number[] = [];
  lines.forEach((line, i) => {
    if (line === '') return;
    const cells = line.split(/[,;\t ]+/).filter((c) => c !== '');
    const nums = cells.map(Number);
    if (nums.length === 2 && nums.every(Number.isFinite)) values.push(nums[0] as number, nums[1] as number);
    else if (!(i === lines.findIndex((l) => l !== '') && nums.some((v) => !Number.isFinite(v))))
      throw new Error(`line ${i + 1} is not two numbers: ${JSON.stringify(line.slice(0, 60))} (the studio fits points in the plane: two columns)`);
  });
  if (values.length < 2 * MIN_ROWS) throw new Error(`${values.length / 2} row(s): a fit needs at least ${MIN_ROWS} (some to train on, some to validate on)`);
  return Float32Array.from(values);
};

/** Fewest rows the studio fits: fit's split then keeps 5 to validate on. */
export const MIN_ROWS = 10;

/** Which rows `fit` trains and validates on for these n rows and seed (its own split, so the picture is the truth). */
export const splitOf = (n: number, seed: number): distributions.RowSplit => distributions.splitRows(n, distributions.defaultValidationRows(n), seed);

/** The rows at the indices, x and y interleaved. */
export const rowsAt = (rows: Float32Array, idx: Int32Array): Float32Array => {
  const out = new Float32Array(2 * idx.length);
  idx.forEach((r, i) => {
    out[2 * i] = rows[2 * r] as number;
    out[2 * i + 1] = rows[2 * r + 1] as number;
  });
  return out;
};
