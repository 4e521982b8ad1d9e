/**
 * The fit report's baseline comparison as a Vega-Lite spec: the held-out NLL of each model (the flow
 * and its baselines, e.g. a Gaussian and a Gaussian mixture) as a point with a bar of ± 1 standard
 * error, one row per model, lower is better. The x axis names the unit; the subtitle says what the bars are.
 */
import { PLOT_CONFIG, VEGA_LITE_SCHEMA, type PlotSpec } from './spec.js';

/** One model's held-out NLL and the standard error of that mean (over held-out rows). */
export interface ModelNll {
  readonly model: string;
  readonly nll: number;
  readonly standardError: number;
}

/** Options of `nllComparisonSpec`: its title and what the NLL is measured on. */
export interface NllComparisonOptions {
  /** Default "Held-out NLL by model". */
  readonly title?: string;
  /** The x axis title with its unit, default "held-out NLL (nats per dimension)". */
  readonly xTitle?: string;
  readonly width?: number;
}

/** The spec of the comparison (see the file comment). Models keep the order given. */
export const nllComparisonSpec = (models: readonly ModelNll[], o: NllComparisonOptions = {}): PlotSpec => {
  const rows = models.map((m) => ({ model: m.model, nll: m.nll, low: m.nll - m.standardError, high: m.nll + m.standardError, standardError: m.standardError }));
  const y = { field: 'model', type: 'nominal', title: 'model', sort: models.map((m) => m.model) } as const;
  const xTitle = o.xTitle ?? 'held-out NLL (nats per dimension)';
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: o.title ?? 'Held-out NLL by model', subtitle: 'point: mean over held-out rows; bar: ± 1 standard error; lower is better' },
    width: o.width ?? 420,
    height: { step: 28 },
    config: PLOT_CONFIG,
    data: { values: rows },
    layer: [
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, x: { field: 'low', type: 'quantitative', title: xTitle, scale: { zero: false } }, x2: { field: 'high' } } },
      { mark: { type: 'point', filled: true, size: 70 }, encoding: { y, x: { field: 'nll', type: 'quantitative', title: xTitle }, color: { field: 'model', type: 'nominal', title: 'model', sort: models.map((m) => m.model) } } },
    ],
  };
};
