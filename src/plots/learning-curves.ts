/**
 * Learning curves as a Vega-Lite spec: one line per series (a seed, a model), one colour each with a
 * legend, the x axis in training steps and the y axis titled with its unit. Values beyond the y range
 * (early spikes, a diverging run) are clipped to its edge and marked there with a triangle, which has
 * its own legend entry, so a reader sees that the line left the plot and in which direction.
 */
import { PLOT_CONFIG, VEGA_LITE_SCHEMA, type PlotEncoding, type PlotSpec, type UnitPlot } from './spec.js';

/** One curve: (step, value) points in order of step. */
export interface CurveSeries {
  /** Legend entry, e.g. "CAFLOW seed 0". */
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** Options of `learningCurveSpec`: titles, the y range (values outside it are clipped and marked) and the size. */
export interface LearningCurveOptions {
  readonly title: string;
  /** A second title line (what was smoothed, which runs). */
  readonly subtitle?: string;
  /** The y axis title with its unit, e.g. "training loss (nats/dim)". */
  readonly yTitle: string;
  /** Default "training step". */
  readonly xTitle?: string;
  /** Legend title, default "run". */
  readonly legendTitle?: string;
  /** The y axis range; values outside it are clipped and marked. Default: the data's range. */
  readonly yRange?: readonly [number, number];
  readonly width?: number;
  readonly height?: number;
}

/** Legend entries of the clipping marks. */
export const CLIPPED_ABOVE = 'clipped: above the axis';
/** The legend entry of points below the y axis's range (drawn at its bottom edge). */
export const CLIPPED_BELOW = 'clipped: below the axis';

/** A moving average over `window` points (the first points average what there is). */
export const movingAverage = (values: readonly number[], window: number): number[] => {
  let sum = 0;
  return values.map((v, i) => {
    sum += v;
    if (i >= window) sum -= values[i - window] as number;
    return sum / Math.min(i + 1, window);
  });
};

/**
 * A y range that shows the bulk of the curves: from the lowest value to the `upper` quantile of the
 * values at x >= `from` (early steps, where losses start far above, are left to be clipped), widened
 * by 5 % on each side.
 */
export const curveRange = (series: readonly CurveSeries[], o: { readonly from?: number; readonly upper?: number } = {}): [number, number] => {
  const ys = series.flatMap((s) => s.points.filter(([x, y]) => x >= (o.from ?? -Infinity) && Number.isFinite(y)).map(([, y]) => y)).sort((a, b) => a - b);
  if (ys.length === 0) return [0, 1];
  const lo = ys[0] as number;
  const hi = ys[Math.min(ys.length - 1, Math.floor((ys.length - 1) * (o.upper ?? 1)))] as number;
  const pad = Math.max(hi - lo, 1e-6) * 0.05;
  return [lo - pad, hi + pad];
};

/** The spec of the curves (see the file comment). Non-finite values are left out of the lines. */
export const learningCurveSpec = (series: readonly CurveSeries[], o: LearningCurveOptions): PlotSpec => {
  const range = o.yRange ?? curveRange(series);
  const [lo, hi] = range;
  const rows = series.flatMap((s) =>
    s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([step, value]) => ({
        run: s.label,
        step,
        value,
        shown: Math.min(hi, Math.max(lo, value)),
        clipped: value > hi ? CLIPPED_ABOVE : value < lo ? CLIPPED_BELOW : null,
      })),
  );
  const x: PlotEncoding['x'] = { field: 'step', type: 'quantitative', title: o.xTitle ?? 'training step', scale: { nice: false } };
  const y: PlotEncoding['y'] = { field: 'shown', type: 'quantitative', title: o.yTitle, scale: { domain: [lo, hi], nice: false, zero: false } };
  const color: PlotEncoding['color'] = { field: 'run', type: 'nominal', title: o.legendTitle ?? 'run', sort: series.map((s) => s.label), scale: { scheme: 'tableau10' }, legend: { symbolType: 'stroke' } };
  const kinds = [CLIPPED_ABOVE, CLIPPED_BELOW].filter((k) => rows.some((r) => r.clipped === k));
  const clippedLayer: UnitPlot[] = kinds.length > 0
    ? [
        {
          transform: [{ filter: 'datum.clipped !== null' }],
          mark: { type: 'point', filled: true, size: 36, opacity: 0.8 },
          encoding: {
            x,
            y,
            color,
            shape: {
              field: 'clipped',
              type: 'nominal',
              title: 'beyond the y axis',
              scale: { domain: kinds, range: kinds.map((k) => (k === CLIPPED_ABOVE ? 'triangle-up' : 'triangle-down')) },
            },
          },
        },
      ]
    : [];
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: o.subtitle === undefined ? o.title : { text: o.title, subtitle: o.subtitle },
    width: o.width ?? 560,
    height: o.height ?? 320,
    config: PLOT_CONFIG,
    data: { values: rows },
    layer: [{ mark: { type: 'line', strokeWidth: 1.5, clip: true }, encoding: { x, y, color, detail: { field: 'run' } } }, ...clippedLayer],
  };
};
