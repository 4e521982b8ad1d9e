/**
 * Renders a plot spec (src/plots/, Vega-Lite) in Node: compiled by Vega-Lite to Vega, laid out and
 * drawn to SVG by Vega (no canvas: text is measured by Vega's estimates), then rasterised to PNG by
 * resvg at `scale` (default 2, for sharp text). Every figure is written as PNG with its SVG beside it
 * (same name, .svg): the SVG for the web and for tests, which read its text.
 */
import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import type { PlotSpec } from '../plots/spec.js';
import { PNG_SOFTWARE, withSoftware, writeFileAtomically } from './png.js';

/** A rendered figure: its SVG text and PNG bytes. */
export interface RenderedFigure {
  readonly svg: string;
  /** The PNG bytes. */
  readonly png: Buffer;
}

/** The SVG text of a spec. */
export const figureSvg = async (spec: PlotSpec): Promise<string> => {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
};

/** The SVG and PNG of a spec; the PNG is `scale` times the SVG's size. */
export const renderFigure = async (spec: PlotSpec, scale = 2): Promise<RenderedFigure> => {
  const svg = await figureSvg(spec);
  const png = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    // DejaVu Sans where installed (Debian, most Linux); otherwise resvg's fallback.
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  return { svg, png };
};

/** The SVG's path beside a PNG path: `a/b.png` -> `a/b.svg`. */
export const svgBeside = (pngPath: string): string => pngPath.replace(/\.png$/i, '') + '.svg';

/** Writes the figure to `pngPath` and its SVG beside it; returns both paths. */
export const writeFigure = async (pngPath: string, spec: PlotSpec, scale = 2): Promise<{ readonly png: string; readonly svg: string }> => {
  const { svg, png } = await renderFigure(spec, scale);
  const svgPath = svgBeside(pngPath);
  await writeFileAtomically(svgPath, svg);
  // Marked as the CLI's own, so a later run of the same command may replace it (src/cli/output-rule.ts).
  await writeFileAtomically(pngPath, withSoftware(png, PNG_SOFTWARE));
  return { png: pngPath, svg: svgPath };
};
