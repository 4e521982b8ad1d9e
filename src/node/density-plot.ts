/**
 * The picture of a fitted 2-D density that `typed-flows fit` writes (density.png, with its SVG beside
 * it): titled panels over one window with axes, drawn from a Vega-Lite spec (src/plots/density-heatmap.ts)
 * by src/node/figure.ts:
 *   1. the data as dots;
 *   2. the model's log p on a grid of cell centres, on a colour scale titled in nats;
 *   3. samples from the model as dots;
 *   4. when given, the best Gaussian mixture's log p on the same grid and colour scale (the baseline
 *      the report compares the model with).
 * The window is the data's 0.5%..99.5% range on each axis, widened by 15%.
 */
import * as tf from '@tensorflow/tfjs';
import { densityFigureSpec, gridCentres, type Panel, type PlotWindow } from '../plots/density-heatmap.js';
import { writeFigure } from './figure.js';

/** log p at a batch of points [N, 2] -> [N]. */
export type LogDensity = (points: tf.Tensor2D) => tf.Tensor1D;

export interface DensityPlotInput {
  /** The model's log p. */
  readonly logProb: LogDensity;
  /** The data, row-major x0, y0, x1, y1, ... */
  readonly data: Float32Array;
  /** Samples from the model, row-major like the data. */
  readonly samples: Float32Array;
  /** A baseline drawn beside the model on the same colour scale (the best Gaussian mixture). */
  readonly baseline?: { readonly title: string; readonly logProb: LogDensity };
  /** Cells per side of the density grids (default 48: the SVG holds one rectangle per cell). */
  readonly size?: number;
  readonly title?: string;
}

const quantile = (sorted: Float32Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))] as number;

/** The plotting window of 2-D points (see the file comment). */
export const windowOf = (points: Float32Array): PlotWindow => {
  const axis = (k: number): [number, number] => {
    const v = Float32Array.from({ length: points.length / 2 }, (_, i) => points[2 * i + k] as number).sort();
    const lo = quantile(v, 0.005);
    const hi = quantile(v, 0.995);
    const pad = Math.max(hi - lo, 1e-3) * 0.15;
    return [lo - pad, hi + pad];
  };
  return { x: axis(0), y: axis(1) };
};

/** log p of `f` at the grid's cell centres (row 0 at the bottom), as the figure wants it. */
const onGrid = (f: LogDensity, centres: Float32Array): Float32Array => {
  const values = tf.tidy(() => f(tf.tensor2d(centres, [centres.length / 2, 2])).dataSync());
  return Float32Array.from(values);
};

/** Writes the panels to `path` (PNG, and the SVG beside it). Returns the plotting window. */
export const writeDensityPlot = async (path: string, input: DensityPlotInput): Promise<PlotWindow> => {
  const window = windowOf(input.data);
  const size = input.size ?? 48;
  const centres = gridCentres(window, size);
  const panels: Panel[] = [
    { kind: 'points', title: 'data', points: input.data },
    { kind: 'density', title: 'model', size, logp: onGrid(input.logProb, centres) },
    { kind: 'points', title: 'samples from the model', points: input.samples },
    ...(input.baseline === undefined ? [] : [{ kind: 'density' as const, title: input.baseline.title, size, logp: onGrid(input.baseline.logProb, centres) }]),
  ];
  await writeFigure(path, densityFigureSpec(window, panels, input.title === undefined ? {} : { title: input.title }));
  return window;
};
