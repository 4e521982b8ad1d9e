/**
 * Draws a plot spec of the library (src/plots, Vega-Lite) into the page as SVG: the same specs the CLI
 * renders to SVG + PNG in Node (src/node/figure.ts). Vega and Vega-Lite are loaded on the first plot,
 * so the page opens without them.
 */
import type { PlotSpec } from '../../src/plots/spec.js';

/** A drawn plot: call `remove` before drawing another in its place. */
export interface DrawnPlot {
  readonly remove: () => void;
}

/** Compiles `spec` to Vega and draws it into `container` (replacing what is there) as SVG. */
export const drawPlot = async (container: HTMLElement, spec: PlotSpec): Promise<DrawnPlot> => {
  const [{ compile }, { parse, View }] = await Promise.all([import('vega-lite'), import('vega')]);
  container.replaceChildren();
  const view = new View(parse(compile(spec).spec), { renderer: 'svg', container, hover: true });
  await view.runAsync();
  return {
    remove: () => {
      view.finalize();
      container.replaceChildren();
    },
  };
};
