/**
 * Writes the toy data sets of docs/density.md ("Measured") as CSV files, with the true density's
 * held-out NLL on the test rows:
 *
 *   npx tsx scripts/density-toys.ts <folder> [seed]
 *
 * For each toy: <toy>-data.csv (2,500 rows: fit's default split trains on 2,000 and validates on 500),
 * <toy>-test.csv (10,000 rows from another seed) and truth.json ({ toy: { nll, standardError } }, the
 * mean of -log p_true over the test rows). Toys:
 * - moons: scikit-learn's make_moons with noise 0.1 (t uniform on [0, pi], not scaled), density by
 *   numerical integration over the arcs (4,000-point midpoint rule);
 * - rings, checkerboard: bench/density-data.ts (rings' density by integration over the angle);
 * - student-t: bench/density-data.ts (the bivariate Student-t with 2 degrees of freedom, density closed form);
 * - mixture-6d: bench/density-data.ts's random 6-D Gaussian mixture (6 components), density closed form.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkerboard, gaussianMixture, normals, rings, studentT, type Rows } from '../bench/density-data.js';
import { seededRandom } from '../src/dsl/random.js';

const LOG_2PI = Math.log(2 * Math.PI);
const MOON_NOISE = 0.1;
const RING_NOISE = 0.08;
const RADII = [0.5, 1, 1.5, 2];

const logSumExp = (xs: readonly number[]): number => {
  const m = Math.max(...xs);
  return m === -Infinity ? -Infinity : m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

/** log of the mean over the curve's parameter of N(x; curve(t), s^2 I) (midpoint rule, m points on [0, 1)). */
const curveLogDensity = (x: readonly number[], curve: (u: number) => readonly [number, number], s: number, m: number): number => {
  const terms: number[] = [];
  for (let i = 0; i < m; i += 1) {
    const [a, b] = curve((i + 0.5) / m);
    terms.push(-LOG_2PI - 2 * Math.log(s) - (((x[0] as number) - a) ** 2 + ((x[1] as number) - b) ** 2) / (2 * s * s));
  }
  return logSumExp(terms) - Math.log(m);
};

interface Toy {
  readonly sample: (n: number, seed: number) => Rows;
  readonly logDensity: (x: readonly number[]) => number;
}

const moons: Toy = {
  sample: (n, seed) => {
    const random = seededRandom(seed);
    const normal = normals(random);
    return Array.from({ length: n }, () => {
      const t = Math.PI * random();
      const outer = random() < 0.5;
      const [x, y] = outer ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
      return [x + MOON_NOISE * normal(), y + MOON_NOISE * normal()];
    });
  },
  logDensity: (x) =>
    logSumExp([
      Math.log(0.5) + curveLogDensity(x, (u) => [Math.cos(Math.PI * u), Math.sin(Math.PI * u)], MOON_NOISE, 4000),
      Math.log(0.5) + curveLogDensity(x, (u) => [1 - Math.cos(Math.PI * u), 0.5 - Math.sin(Math.PI * u)], MOON_NOISE, 4000),
    ]),
};

const ringTotal = RADII.reduce((s, r) => s + r, 0);
const ringsToy: Toy = {
  sample: rings.sample,
  logDensity: (x) => logSumExp(RADII.map((r) => Math.log(r / ringTotal) + curveLogDensity(x, (u) => [r * Math.cos(2 * Math.PI * u), r * Math.sin(2 * Math.PI * u)], RING_NOISE, 2000))),
};

const mixture = gaussianMixture({ dims: 6, components: 6 });

const toys: Record<string, Toy> = {
  moons,
  rings: ringsToy,
  checkerboard: { sample: checkerboard.sample, logDensity: checkerboard.logDensity as (x: readonly number[]) => number },
  'student-t': { sample: studentT.sample, logDensity: studentT.logDensity as (x: readonly number[]) => number },
  'mixture-6d': { sample: mixture.sample, logDensity: mixture.logDensity as (x: readonly number[]) => number },
};

const csv = (rows: Rows): string => `${rows[0]?.map((_, j) => `x${j}`).join(',')}\n${rows.map((r) => r.map((v) => v.toPrecision(8)).join(',')).join('\n')}\n`;

const folder = process.argv[2];
if (folder === undefined) {
  console.error('usage: npx tsx scripts/density-toys.ts <folder> [seed]');
  process.exit(2);
}
const seed = Number(process.argv[3] ?? 0);
mkdirSync(folder, { recursive: true });
const truth: Record<string, { nll: number; standardError: number }> = {};
for (const [name, toy] of Object.entries(toys)) {
  writeFileSync(join(folder, `${name}-data.csv`), csv(toy.sample(2500, 1000 + seed)));
  const test = toy.sample(10000, 2000 + seed);
  writeFileSync(join(folder, `${name}-test.csv`), csv(test));
  const nll = test.map((x) => -toy.logDensity(x));
  const mean = nll.reduce((a, b) => a + b, 0) / nll.length;
  const se = Math.sqrt(nll.reduce((a, v) => a + (v - mean) ** 2, 0) / (nll.length - 1) / nll.length);
  truth[name] = { nll: mean, standardError: se };
  console.log(`${name}: true NLL on the test rows ${mean.toFixed(4)} ± ${se.toFixed(4)}`);
}
writeFileSync(join(folder, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);
