/**
 * The data sets of the density-estimation benchmark (bench/density.ts), generated in plain JS from
 * fixed seeds (mulberry32, Box-Muller normals), with the true log-density where it is known:
 *
 * - two moons: two interleaved half circles, Gaussian noise of std 0.1, centred and scaled by 1.5;
 * - eight Gaussians: equal weights, centres on the circle of radius 2, std 0.2 (density known);
 * - checkerboard: uniform on the 8 black unit squares of a 4x4 board on [-2, 2]^2 (density 1/8 there,
 *   entropy log 8 exactly);
 * - rings: four concentric circles of radii 0.5, 1, 1.5, 2 (points in proportion to the
 *   circumference), Gaussian noise of std 0.08;
 * - spirals: two interleaved arms r = t, t uniform on [0.25, 3pi] (angle t, the second arm turned by pi),
 *   scaled by 2 / (3pi), Gaussian noise of std 0.06;
 * - Student-t: the bivariate Student-t with 2 degrees of freedom (identity scale): heavy tails, density
 *   closed form;
 * - a Gaussian mixture in D dimensions (default 8) with K components (default 6): weights 0.5 + U(0, 1)
 *   normalised, means N(0, 1.5^2 I), covariances L L^T with L lower triangular, diagonal
 *   exp(U(-1.2, -0.3)), below it N(0, 0.3^2) (density known).
 *
 * Rows are plain number arrays so the same points can be written to a file for PyTorch.
 */
import { normals, seededRandom } from '../src/dsl/random.js';

/** Standard normals from a seeded uniform stream (src/dsl/random.ts). */
export { normals };

export type Rows = number[][];

export interface Toy {
  readonly name: string;
  readonly dims: number;
  readonly description: string;
  /** n rows from `seed`. */
  readonly sample: (n: number, seed: number) => Rows;
  /** The true log-density, when known. */
  readonly logDensity?: (x: readonly number[]) => number;
  /** The true density's entropy when it is known in closed form (else estimated by Monte Carlo). */
  readonly exactEntropy?: number;
}

const LOG_2PI = Math.log(2 * Math.PI);

const logSumExp = (xs: readonly number[]): number => {
  const m = Math.max(...xs);
  return m === -Infinity ? -Infinity : m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

export const twoMoons: Toy = {
  name: 'two moons',
  dims: 2,
  description: 'two interleaved half circles, noise std 0.1, centred, scaled by 1.5',
  sample: (n, seed) => {
    const random = seededRandom(seed);
    const normal = normals(random);
    return Array.from({ length: n }, () => {
      const t = Math.PI * random();
      const upper = random() < 0.5;
      const x = upper ? Math.cos(t) : 1 - Math.cos(t);
      const y = upper ? Math.sin(t) : 0.5 - Math.sin(t);
      return [1.5 * (x - 0.5 + 0.1 * normal()), 1.5 * (y - 0.25 + 0.1 * normal())];
    });
  },
};

const EIGHT = Array.from({ length: 8 }, (_, k) => [2 * Math.cos((k * Math.PI) / 4), 2 * Math.sin((k * Math.PI) / 4)] as const);
const EIGHT_STD = 0.2;

export const eightGaussians: Toy = {
  name: 'eight Gaussians',
  dims: 2,
  description: 'equal mixture, centres on the circle of radius 2, std 0.2',
  sample: (n, seed) => {
    const random = seededRandom(seed);
    const normal = normals(random);
    return Array.from({ length: n }, () => {
      const c = EIGHT[Math.floor(8 * random())] as readonly [number, number];
      return [c[0] + EIGHT_STD * normal(), c[1] + EIGHT_STD * normal()];
    });
  },
  logDensity: (x) =>
    logSumExp(EIGHT.map(([a, b]) => -Math.log(8) - LOG_2PI - 2 * Math.log(EIGHT_STD) - (((x[0] as number) - a) ** 2 + ((x[1] as number) - b) ** 2) / (2 * EIGHT_STD ** 2))),
};

export const checkerboard: Toy = {
  name: 'checkerboard',
  dims: 2,
  description: 'uniform on the 8 black unit squares of a 4x4 board on [-2, 2]^2',
  sample: (n, seed) => {
    const random = seededRandom(seed);
    return Array.from({ length: n }, () => {
      const row = Math.floor(4 * random());
      const col = 2 * Math.floor(2 * random()) + (row % 2);
      return [col - 2 + random(), row - 2 + random()];
    });
  },
  logDensity: (x) => {
    const [a, b] = [Math.floor((x[0] as number) + 2), Math.floor((x[1] as number) + 2)];
    return a >= 0 && a < 4 && b >= 0 && b < 4 && a % 2 === b % 2 ? -Math.log(8) : -Infinity;
  },
  exactEntropy: Math.log(8),
};

const RADII = [0.5, 1, 1.5, 2];

export const rings: Toy = {
  name: 'rings',
  dims: 2,
  description: 'four concentric circles, radii 0.5 to 2, noise std 0.08',
  sample: (n, seed) => {
    const random = seededRandom(seed);
    const normal = normals(random);
    const total = RADII.reduce((s, r) => s + r, 0);
    return Array.from({ length: n }, () => {
      let u = total * random();
      let r = RADII[RADII.length - 1] as number;
      for (const radius of RADII) {
        if (u < radius) {
          r = radius;
          break;
        }
        u -= radius;
      }
      const t = 2 * Math.PI * random();
      return [r * Math.cos(t) + 0.08 * normal(), r * Math.sin(t) + 0.08 * normal()];
    });
  },
};

const SPIRAL_TURNS = 3 * Math.PI;

export const spirals: Toy = {
  name: 'spirals',
  dims: 2,
  description: 'two interleaved spiral arms, noise std 0.06',
  sample: (n, seed) => {
    const random = seededRandom(seed);
    const normal = normals(random);
    return Array.from({ length: n }, () => {
      const t = 0.25 + (SPIRAL_TURNS - 0.25) * random();
      const turn = random() < 0.5 ? 0 : Math.PI;
      const r = (2 * t) / SPIRAL_TURNS;
      return [r * Math.cos(t + turn) + 0.06 * normal(), r * Math.sin(t + turn) + 0.06 * normal()];
    });
  },
};

export const studentT: Toy = {
  name: 'Student-t',
  dims: 2,
  description: 'bivariate Student-t with 2 degrees of freedom: heavy tails',
  // x = z / sqrt(w), z ~ N(0, I), w ~ chi^2_2 / 2 = -log U.
  sample: (n, seed) => {
    const random = seededRandom(seed);
    const normal = normals(random);
    return Array.from({ length: n }, () => {
      const w = -Math.log(1 - random());
      return [normal() / Math.sqrt(w), normal() / Math.sqrt(w)];
    });
  },
  // Gamma((nu + d)/2) / (Gamma(nu/2) nu pi) (1 + |x|^2/nu)^-((nu + d)/2) with nu = d = 2.
  logDensity: (x) => -Math.log(2 * Math.PI) - 2 * Math.log(1 + ((x[0] as number) ** 2 + (x[1] as number) ** 2) / 2),
};

export interface MixtureOptions {
  readonly dims?: number;
  readonly components?: number;
  readonly seed?: number;
}

/** A random full-covariance Gaussian mixture (see the file comment), its sampler and log-density. */
export const gaussianMixture = (options: MixtureOptions = {}): Toy => {
  const { dims: d = 8, components: k = 6, seed = 12 } = options;
  const random = seededRandom(seed);
  const normal = normals(random);
  const raw = Array.from({ length: k }, () => 0.5 + random());
  const total = raw.reduce((s, w) => s + w, 0);
  const logWeights = raw.map((w) => Math.log(w / total));
  const cumulative = raw.map((_, i) => raw.slice(0, i + 1).reduce((s, w) => s + w, 0) / total);
  const means = Array.from({ length: k }, () => Array.from({ length: d }, () => 1.5 * normal()));
  // Lower-triangular factors, row-major.
  const factors = Array.from({ length: k }, () =>
    Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (j < i ? 0.3 * normal() : j === i ? Math.exp(-1.2 + 0.9 * random()) : 0))),
  );
  const logDets = factors.map((l) => l.reduce((s, row, i) => s + Math.log(row[i] as number), 0));
  const logComponent = (c: number, x: readonly number[]): number => {
    // Solve L y = x - mu by forward substitution.
    const l = factors[c] as number[][];
    const mu = means[c] as number[];
    const y: number[] = [];
    let sq = 0;
    for (let i = 0; i < d; i++) {
      let v = (x[i] as number) - (mu[i] as number);
      for (let j = 0; j < i; j++) v -= (l[i]?.[j] as number) * (y[j] as number);
      const yi = v / (l[i]?.[i] as number);
      y.push(yi);
      sq += yi * yi;
    }
    return -0.5 * sq - (logDets[c] as number) - (d / 2) * LOG_2PI;
  };
  return {
    name: `Gaussian mixture ${d}-D`,
    dims: d,
    description: `${k} full-covariance components in ${d} dimensions (generator seed ${seed})`,
    sample: (n, s) => {
      const r = seededRandom(s);
      const z = normals(r);
      return Array.from({ length: n }, () => {
        const u = r();
        const c = Math.max(0, cumulative.findIndex((p) => u < p));
        const l = factors[c] as number[][];
        const eps = Array.from({ length: d }, () => z());
        return (means[c] as number[]).map((m, i) => m + (l[i] as number[]).reduce((acc, lij, j) => acc + lij * (eps[j] as number), 0));
      });
    },
    logDensity: (x) => logSumExp(logWeights.map((lw, c) => lw + logComponent(c, x))),
  };
};

/** Monte Carlo entropy -E[log p(x)] over n fresh draws, with its standard error. */
export const entropyEstimate = (toy: Toy, n: number, seed: number): { value: number; stderr: number; samples: number } => {
  const logDensity = toy.logDensity;
  if (logDensity === undefined) throw new TypeError(`${toy.name}: no known density`);
  const lp = toy.sample(n, seed).map((x) => -logDensity(x));
  const mean = lp.reduce((s, v) => s + v, 0) / n;
  const variance = lp.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { value: mean, stderr: Math.sqrt(variance / n), samples: n };
};
