/**
 * A picture of a 2-D density: three square panels side by side over the same window, written with the
 * PNG grid writer (src/node/png.ts):
 *   1. a heatmap of exp(log p) on a grid of pixel centres (dark = 0, bright = the grid's maximum,
 *      an inferno-like colour map);
 *   2. the data as dots;
 *   3. samples from the distribution as dots.
 * The window is the data's 0.5%..99.5% range on each axis, widened by 15%; y points up.
 */
import * as tf from '@tensorflow/tfjs';
import { writeImageGrid } from './png.js';

export interface DensityPlotInput {
  /** log p at a batch of points [N, 2] -> [N]. */
  readonly logProb: (points: tf.Tensor2D) => tf.Tensor1D;
  /** The data, row-major x0, y0, x1, y1, ... */
  readonly data: Float32Array;
  /** Samples, row-major like the data. */
  readonly samples: Float32Array;
  /** Pixels per side of each panel (default 160). */
  readonly size?: number;
}

export interface Window {
  readonly x: readonly [number, number];
  readonly y: readonly [number, number];
}

const quantile = (sorted: Float32Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))] as number;

/** The plotting window of 2-D points (see the file comment). */
export const windowOf = (points: Float32Array): Window => {
  const axis = (k: number): [number, number] => {
    const v = Float32Array.from({ length: points.length / 2 }, (_, i) => points[2 * i + k] as number).sort();
    const lo = quantile(v, 0.005);
    const hi = quantile(v, 0.995);
    const pad = Math.max(hi - lo, 1e-3) * 0.15;
    return [lo - pad, hi + pad];
  };
  return { x: axis(0), y: axis(1) };
};

// Inferno-like control points (0 -> black, 1 -> pale yellow).
const STOPS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 4],
  [40, 11, 84],
  [101, 21, 110],
  [159, 42, 99],
  [212, 72, 66],
  [245, 125, 21],
  [250, 193, 39],
  [252, 255, 164],
];

const colour = (t: number): [number, number, number] => {
  const u = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(u));
  const f = u - i;
  const a = STOPS[i] as readonly [number, number, number];
  const b = STOPS[i + 1] as readonly [number, number, number];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
};

/** The three panels as one [3, size, size, 3] tensor of 0..255 values. */
export const densityPanels = (input: DensityPlotInput): tf.Tensor4D => {
  const size = input.size ?? 160;
  const win = windowOf(input.data);
  const px = (i: number): number => win.x[0] + ((i + 0.5) / size) * (win.x[1] - win.x[0]);
  const py = (j: number): number => win.y[1] - ((j + 0.5) / size) * (win.y[1] - win.y[0]); // row 0 at the top
  const grid = new Float32Array(size * size * 2);
  for (let j = 0; j < size; j++)
    for (let i = 0; i < size; i++) {
      grid[2 * (j * size + i)] = px(i);
      grid[2 * (j * size + i) + 1] = py(j);
    }
  const points = tf.tensor2d(grid, [size * size, 2]);
  const lp = input.logProb(points);
  const logp = lp.dataSync();
  tf.dispose([points, lp]);
  let max = -Infinity;
  for (const v of logp) if (Number.isFinite(v) && v > max) max = v;
  const out = new Float32Array(3 * size * size * 3);
  for (let k = 0; k < size * size; k++) {
    const v = logp[k] as number;
    const [r, g, b] = colour(Number.isFinite(v) ? Math.exp(v - max) : 0);
    out.set([r, g, b], 3 * k);
  }
  const dots = (panel: number, pts: Float32Array, rgb: readonly [number, number, number]): void => {
    const base = panel * size * size * 3;
    out.fill(255, base, base + size * size * 3);
    const n = pts.length / 2;
    // Each point darkens its pixel towards rgb; overlapping points darken it further.
    const alpha = Math.min(0.9, Math.max(0.3, 400 / n));
    for (let p = 0; p < n; p++) {
      const i = Math.floor(((pts[2 * p] as number) - win.x[0]) / (win.x[1] - win.x[0]) * size);
      const j = Math.floor((win.y[1] - (pts[2 * p + 1] as number)) / (win.y[1] - win.y[0]) * size);
      // A 2x2 dot.
      for (const [di, dj] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const ii = i + di;
        const jj = j + dj;
        if (!(ii >= 0 && ii < size && jj >= 0 && jj < size)) continue;
        const at = base + 3 * (jj * size + ii);
        for (let c = 0; c < 3; c++) out[at + c] = (out[at + c] as number) * (1 - alpha) + (rgb[c] as number) * alpha;
      }
    }
  };
  dots(1, input.data, [20, 60, 160]);
  dots(2, input.samples, [190, 40, 30]);
  return tf.tensor4d(out, [3, size, size, 3]);
};

/** Writes the three panels to `path` (PNG). Returns the plotting window. */
export const writeDensityPlot = async (path: string, input: DensityPlotInput): Promise<Window> => {
  const panels = densityPanels(input);
  try {
    await writeImageGrid(path, [panels], { padding: 4 });
  } finally {
    panels.dispose();
  }
  return windowOf(input.data);
};
