/**
 * The k samples drawn for one condition, ranked by log p(W | Y), as a Vega-Lite spec: each sample's
 * cost -log p(W | Y) in bits per dimension against its rank (1 = the likeliest), a point each joined
 * in rank order, so a reader sees at a glance how far apart the ranked samples are. The playground
 * draws it under its samples, in the browser, from this same spec.
 */
import { PLOT_CONFIG, VEGA_LITE_SCHEMA, type PlotSpec } from './spec.js';

/** One sample's rank (1 = best) and cost in bits/dim. */
export interface RankedCost {
  /** 1 for the likeliest sample, k for the least likely. */
  readonly rank: number;
  /** -log p(W | Y) / (D ln 2). */
  readonly bitsPerDim: number;
}

/** Options of `rankedSamplesSpec`: its title and subtitle and its size. */
export interface RankedSamplesOptions {
  /** Default "The samples' cost, best first". */
  readonly title?: string;
  /** A second title line (the model, the temperature). */
  readonly subtitle?: string;
  /** Plot width in pixels (default 360). */
  readonly width?: number;
  /** Plot height in pixels (default 180). */
  readonly height?: number;
}

/** The x axis title: what the rank means. */
export const RANK_TITLE = 'sample, ranked by log p(W | Y) (1 = likeliest)';
/** The y axis title with its unit. */
export const COST_TITLE = '−log p(W | Y) (bits/dim)';

/** The spec of the ranked samples (see the file comment); ranks keep their numeric order. */
export const rankedSamplesSpec = (samples: readonly RankedCost[], o: RankedSamplesOptions = {}): PlotSpec => {
  const rows = samples.map((s) => ({ rank: s.rank, bitsPerDim: s.bitsPerDim }));
  const title = o.title ?? "The samples' cost, best first (lower is likelier)";
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: o.subtitle === undefined ? title : { text: title, subtitle: o.subtitle },
    width: o.width ?? 360,
    height: o.height ?? 180,
    config: PLOT_CONFIG,
    data: { values: rows },
    mark: { type: 'line', color: '#4c78a8', point: { filled: true, size: 50, color: '#4c78a8' } },
    encoding: {
      x: { field: 'rank', type: 'ordinal', title: RANK_TITLE, sort: rows.map((r) => r.rank).sort((a, b) => a - b), axis: { labelAngle: 0 } },
      // Not from zero: the samples' costs differ by hundredths of a bit/dim, which a scale from zero would hide.
      y: { field: 'bitsPerDim', type: 'quantitative', title: COST_TITLE, scale: { zero: false }, axis: { format: '.3f' } },
      tooltip: [
        { field: 'rank', type: 'ordinal', title: 'rank' },
        { field: 'bitsPerDim', type: 'quantitative', title: 'bits/dim', format: '.4f' },
      ],
    },
  };
};
