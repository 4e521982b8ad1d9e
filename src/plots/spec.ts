/**
 * Plots as data: every figure is a Vega-Lite spec (a JSON value, like our flows), built by the pure
 * functions of this folder. The same spec renders in the browser (vega-embed) or in Node to SVG and
 * PNG (src/node/figure.ts). Nothing here imports Vega itself, only its types.
 */
import type { Config, TopLevelSpec } from 'vega-lite';
import type { Field } from 'vega-lite/types_unstable/channeldef.js';
import type { UnitSpec, UnitSpecWithFrame } from 'vega-lite/types_unstable/spec/unit.js';

/** A Vega-Lite spec of one figure. */
export type PlotSpec = TopLevelSpec;

/** The Vega-Lite schema every spec names. */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Shared look: white background, readable font sizes. */
export const PLOT_CONFIG: Config = {
  background: 'white',
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
};

/** A unit spec (one mark with its encoding), as one layer or panel of a figure. */
export type UnitPlot = UnitSpec<Field>;

/** The encoding of a unit spec, channel by channel. */
export type PlotEncoding = NonNullable<UnitPlot['encoding']>;

/** A unit spec with its own width and height (a panel of a concatenated figure). */
export type PanelPlot = UnitSpecWithFrame<Field>;
