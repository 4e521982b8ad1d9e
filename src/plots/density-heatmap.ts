/**
 * A 2-D density figure as a Vega-Lite spec: panels side by side over one window, each titled, sharing
 * their x and y axes. A density panel is a heatmap of log p on a grid of cells, coloured on one scale
 * shared by all density panels and titled with its unit ("log p (nats)"); a points panel shows points
 * (the data, samples). The usual panels: data, model, samples, mixture baseline.
 */
import { PLOT_CONFIG, VEGA_LITE_SCHEMA, type PlotEncoding, type PanelPlot, type PlotSpec } from './spec.js';

/** The plotting window. */
export interface PlotWindow {
  readonly x: readonly [number, number];
  readonly y: readonly [number, number];
}

/** log p on a size x size grid of cells covering the window, row-major with row 0 at the bottom (lowest y). */
export interface DensityPanel {
  readonly kind: 'density';
  readonly title: string;
  readonly size: number;
  readonly logp: ArrayLike<number>;
}

/** Points, row-major x0, y0, x1, y1, ... */
export interface PointsPanel {
  readonly kind: 'points';
  readonly title: string;
  readonly points: ArrayLike<number>;
}

/** One panel of a density figure: a log-density grid or a cloud of points. */
export type Panel = DensityPanel | PointsPanel;

/** Options of `densityFigureSpec`: a title, the panels' size and how deep the colour scale reaches. */
export interface DensityFigureOptions {
  readonly title?: string;
  /** Pixels per side of each panel (default 200). */
  readonly panelSize?: number;
  /**
   * How far below the highest log p the colour scale reaches (default 12 nats); cells below are drawn
   * in the scale's lowest colour, and cells with log p = -inf are left out.
   */
  readonly depth?: number;
}

/** The colour scale's title. */
export const LOG_P_TITLE = 'log p (nats)';

/** The centres of a size x size grid of cells over the window, row-major, row 0 at the bottom. */
export const gridCentres = (window: PlotWindow, size: number): Float32Array => {
  const out = new Float32Array(size * size * 2);
  const [x0, x1] = window.x;
  const [y0, y1] = window.y;
  for (let j = 0; j < size; j++)
    for (let i = 0; i < size; i++) {
      out[2 * (j * size + i)] = x0 + ((i + 0.5) / size) * (x1 - x0);
      out[2 * (j * size + i) + 1] = y0 + ((j + 0.5) / size) * (y1 - y0);
    }
  return out;
};

/** The spec of the figure (see the file comment). */
export const densityFigureSpec = (window: PlotWindow, panels: readonly Panel[], o: DensityFigureOptions = {}): PlotSpec => {
  const side = o.panelSize ?? 200;
  const [x0, x1] = window.x;
  const [y0, y1] = window.y;
  let max = -Infinity;
  for (const p of panels) if (p.kind === 'density') for (let k = 0; k < p.logp.length; k++) if ((p.logp[k] as number) > max) max = p.logp[k] as number;
  const low = Number.isFinite(max) ? max - (o.depth ?? 12) : 0;
  const position = (field: string, title: string, domain: readonly [number, number]): PlotEncoding['x'] => ({
    field,
    type: 'quantitative',
    title,
    scale: { domain: [domain[0], domain[1]], nice: false, zero: false },
  });
  const x = (field: string): PlotEncoding['x'] => position(field, 'x₁', window.x);
  const y = (field: string): PlotEncoding['y'] => position(field, 'x₂', window.y);
  const panelSpec = (p: Panel): PanelPlot => {
    if (p.kind === 'points') {
      const values = Array.from({ length: Math.floor(p.points.length / 2) }, (_, i) => ({ px: p.points[2 * i] as number, py: p.points[2 * i + 1] as number })).filter(
        (v) => v.px >= x0 && v.px <= x1 && v.py >= y0 && v.py <= y1,
      );
      return {
        title: p.title,
        width: side,
        height: side,
        data: { values },
        mark: { type: 'circle', size: 6, opacity: 0.5, color: '#1f4e9c' },
        encoding: { x: x('px'), y: y('py') },
      };
    }
    const dx = (x1 - x0) / p.size;
    const dy = (y1 - y0) / p.size;
    const values: Array<{ a: number; b: number; c: number; d: number; logp: number }> = [];
    for (let j = 0; j < p.size; j++)
      for (let i = 0; i < p.size; i++) {
        const v = p.logp[j * p.size + i] as number;
        if (v === -Infinity || Number.isNaN(v)) continue;
        values.push({ a: x0 + i * dx, b: x0 + (i + 1) * dx, c: y0 + j * dy, d: y0 + (j + 1) * dy, logp: Math.max(low, v) });
      }
    return {
      title: p.title,
      width: side,
      height: side,
      data: { values },
      mark: { type: 'rect' },
      encoding: {
        x: x('a'),
        x2: { field: 'b' },
        y: y('c'),
        y2: { field: 'd' },
        color: { field: 'logp', type: 'quantitative', title: LOG_P_TITLE, scale: { scheme: 'inferno', domain: [low, max] } },
      },
    };
  };
  return {
    $schema: VEGA_LITE_SCHEMA,
    ...(o.title === undefined ? {} : { title: o.title }),
    config: { ...PLOT_CONFIG, view: { stroke: '#888' } },
    hconcat: panels.map(panelSpec),
    resolve: { scale: { color: 'shared' } },
  };
};
