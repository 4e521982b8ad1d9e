/**
 * A sample grid as a Vega-Lite spec of images: one row per condition, with labelled columns (the
 * condition Y, the samples best first, the ground truth W) and labelled rows. The images come as URLs
 * (PNG data URLs in Node, object URLs in the browser); each is drawn unsmoothed at its cell's size.
 */
import { PLOT_CONFIG, VEGA_LITE_SCHEMA, type PlotSpec } from './spec.js';

/** One row of a sample grid: the condition, the samples best first and the ground truth, as images. */
export interface SampleGridRow {
  /** Row label, e.g. "held-out pair 3". */
  readonly label: string;
  /** The condition's image, then the k samples best first, then the ground truth's. */
  readonly images: readonly string[];
}

/** Options of `sampleGridSpec`: the title, what ranked the samples and the cell size. */
export interface SampleGridOptions {
  readonly title?: string;
  /** What ranked the samples, for the column axis title; default "log p(W | Y)". */
  readonly rankedBy?: string;
  /** Pixels per side of each cell (default 56). */
  readonly cellSize?: number;
}

/** The column labels of a grid with k samples: "condition", "best", "2", ..., "k", "truth" (the axis title says more). */
export const sampleGridColumns = (k: number): string[] => ['condition', ...Array.from({ length: k }, (_, i) => (i === 0 ? 'best' : String(i + 1))), 'truth'];

/** The spec of the grid (see the file comment). Every row holds k + 2 images. */
export const sampleGridSpec = (rows: readonly SampleGridRow[], o: SampleGridOptions = {}): PlotSpec => {
  const k = (rows[0]?.images.length ?? 2) - 2;
  for (const r of rows) if (r.images.length !== k + 2) throw new RangeError(`sampleGridSpec: every row needs ${k + 2} images (condition, ${k} samples, ground truth); '${r.label}' has ${r.images.length}`);
  const columns = sampleGridColumns(k);
  const cell = o.cellSize ?? 56;
  const values = rows.flatMap((r) => r.images.map((url, i) => ({ row: r.label, column: columns[i] as string, url })));
  return {
    $schema: VEGA_LITE_SCHEMA,
    ...(o.title === undefined ? {} : { title: o.title }),
    width: { step: cell + 4 },
    height: { step: cell + 4 },
    config: { ...PLOT_CONFIG, view: { stroke: null }, axis: { ...PLOT_CONFIG.axis, domain: false, ticks: false, grid: false } },
    data: { values },
    mark: { type: 'image', width: cell, height: cell, smooth: false },
    encoding: {
      x: {
        field: 'column',
        type: 'ordinal',
        sort: columns,
        title: `condition Y | ${k} samples W, best first (ranked by ${o.rankedBy ?? 'log p(W | Y)'}) | ground truth W`,
        axis: { orient: 'top', labelAngle: 0 },
      },
      y: { field: 'row', type: 'ordinal', sort: rows.map((r) => r.label), title: null },
      url: { field: 'url', type: 'nominal' },
    },
  };
};
