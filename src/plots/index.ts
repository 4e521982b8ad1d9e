/** Plots as Vega-Lite specs (browser-safe): learning curves, NLL comparisons, density figures, sample grids, ranked samples' costs, bench scaling. */
export * from './spec.js';
export * from './learning-curves.js';
export * from './nll-comparison.js';
export * from './density-heatmap.js';
export * from './sample-grid.js';
export * from './bench-scaling.js';
export * from './ranked-samples.js';
