/**
 * The bench's scaling figure as a Vega-Lite spec: the median time of a CAFLOW training step and its
 * peak tensor memory against the image size (pixel sweep) and the depth (depth sweep), one panel per
 * sweep and quantity, on log-log axes so proportional growth is a line of slope 1.
 */
import { PLOT_CONFIG, VEGA_LITE_SCHEMA, type PanelPlot, type PlotSpec } from './spec.js';

/** One configuration of a sweep. */
export interface ScalingPoint {
  readonly sweep: 'pixels' | 'depth';
  /** Image side in pixels (pixel sweep) or flow steps per block (depth sweep). */
  readonly x: number;
  readonly msPerStep: number;
  readonly peakTensorMiB: number;
}

const X_TITLE = { pixels: 'image side (px)', depth: 'flow steps per block' } as const;

/** The spec of the figure (see the file comment); a sweep without points gets no panels. */
export const scalingSpec = (points: readonly ScalingPoint[], title = 'Cost of one CAFLOW training step'): PlotSpec => {
  const panel = (sweep: 'pixels' | 'depth', field: 'msPerStep' | 'peakTensorMiB'): PanelPlot => ({
    title: { text: `${field === 'msPerStep' ? 'step time' : 'peak tensor memory'} vs ${sweep === 'pixels' ? 'image size' : 'depth'}`, fontSize: 12 },
    width: 240,
    height: 160,
    data: { values: points.filter((p) => p.sweep === sweep).map((p) => ({ ...p })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: X_TITLE[sweep], scale: { type: 'log' } },
      y: { field, type: 'quantitative', title: field === 'msPerStep' ? 'median step time (ms)' : 'peak tensor memory (MiB)', scale: { type: 'log' } },
    },
  });
  const sweeps = (['pixels', 'depth'] as const).filter((s) => points.some((p) => p.sweep === s));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: title, subtitle: 'log-log axes: growth proportional to the x value is a line of slope 1' },
    config: PLOT_CONFIG,
    hconcat: sweeps.flatMap((s) => [panel(s, 'msPerStep'), panel(s, 'peakTensorMiB')]),
  };
};
