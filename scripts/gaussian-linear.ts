/**
 * Writes sbibm's Gaussian linear task as CSV files for `fit --context`, `sample --model --context`
 * and `c2st` (docs/continuous.md, "Measured"):
 *
 *   npx tsx scripts/gaussian-linear.ts <folder> [seed] [reference draws per observation]
 *
 * theta ~ N(0, 0.1 I) in 10 dimensions and x ~ N(theta, 0.1 I), so the posterior of theta given x is
 * N(x / 2, 0.05 I) (precisions add: 10 + 10 = 20). Writes theta.csv and x.csv (10,000 aligned pairs),
 * observations.csv (10 observations x_o, each simulated from a fresh theta; not sbibm's stored ten)
 * and reference-<i>.csv (draws from the closed-form posterior at observation i, default 10,000).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { normals, type Rows } from '../bench/density-data.js';
import { seededRandom } from '../src/dsl/random.js';

const DIMS = 10;
const PRIOR_VARIANCE = 0.1;
const NOISE_VARIANCE = 0.1;
const PAIRS = 10000;
const OBSERVATIONS = 10;

const csv = (rows: Rows, prefix: string): string =>
  `${rows[0]?.map((_, j) => `${prefix}${j}`).join(',')}\n${rows.map((r) => r.map((v) => v.toPrecision(8)).join(',')).join('\n')}\n`;

const folder = process.argv[2];
if (folder === undefined) {
  console.error('usage: npx tsx scripts/gaussian-linear.ts <folder> [seed] [reference draws per observation]');
  process.exit(2);
}
const seed = Number(process.argv[3] ?? 0);
const referenceDraws = Number(process.argv[4] ?? 10000);
const normal = normals(seededRandom(3000 + seed));
const gaussian = (mean: readonly number[], variance: number): number[] => mean.map((m) => m + Math.sqrt(variance) * normal());
const zeros = new Array<number>(DIMS).fill(0);

mkdirSync(folder, { recursive: true });
const thetas = Array.from({ length: PAIRS }, () => gaussian(zeros, PRIOR_VARIANCE));
writeFileSync(join(folder, 'theta.csv'), csv(thetas, 't'));
writeFileSync(join(folder, 'x.csv'), csv(thetas.map((t) => gaussian(t, NOISE_VARIANCE)), 'x'));
const observations = Array.from({ length: OBSERVATIONS }, () => gaussian(gaussian(zeros, PRIOR_VARIANCE), NOISE_VARIANCE));
writeFileSync(join(folder, 'observations.csv'), csv(observations, 'x'));
const posteriorVariance = 1 / (1 / PRIOR_VARIANCE + 1 / NOISE_VARIANCE);
observations.forEach((x, i) => {
  const mean = x.map((v) => (v * posteriorVariance) / NOISE_VARIANCE);
  writeFileSync(join(folder, `reference-${i}.csv`), csv(Array.from({ length: referenceDraws }, () => gaussian(mean, posteriorVariance)), 't'));
});
console.log(`wrote ${PAIRS} pairs, ${OBSERVATIONS} observations and ${referenceDraws} reference draws each to ${folder}`);
