/** The studio's pictures on 2-D canvases: points, the log-density heatmap and the NLL curves. */
import { GRID, type Extent } from './protocol.js';

/** Colours of the data's two parts and of the model's samples. */
export const colours = { train: '#2b6cb0', validation: '#dd6b20', samples: '#1d2024', gaussian: '#8a8f98', mixture: '#805ad5', trainCurve: '#2b6cb0', validationCurve: '#dd6b20' } as const;

/** The window around points (x, y interleaved) with a margin, or [-3, 3]^2 with none. */
export const extentOf = (rows: Float32Array, margin = 0.12): Extent => {
  if (rows.length < 4) return { x0: -3, x1: 3, y0: -3, y1: 3 };
  const sorted = (k: 0 | 1): number[] => Array.from({ length: rows.length / 2 }, (_, i) => rows[2 * i + k] as number).sort((a, b) => a - b);
  // The 0.5% and 99.5% quantiles: one far point of a heavy-tailed set should not shrink the rest to a dot.
  const range = (k: 0 | 1): [number, number] => {
    const v = sorted(k);
    const lo = v[Math.floor(0.005 * (v.length - 1))] as number;
    const hi = v[Math.ceil(0.995 * (v.length - 1))] as number;
    const pad = margin * Math.max(hi - lo, 1e-3);
    return [lo - pad, hi + pad];
  };
  const [x0, x1] = range(0);
  const [y0, y1] = range(1);
  return { x0, x1, y0, y1 };
};

/** Canvas pixel of a point. */
const toPixel = (canvas: HTMLCanvasElement, e: Extent, x: number, y: number): [number, number] => [((x - e.x0) / (e.x1 - e.x0)) * canvas.width, ((e.y1 - y) / (e.y1 - e.y0)) * canvas.height];

/** The point under a canvas pixel (CSS pixels of the element's box). */
export const fromPixel = (canvas: HTMLCanvasElement, e: Extent, px: number, py: number): [number, number] => {
  const box = canvas.getBoundingClientRect();
  return [e.x0 + (px / box.width) * (e.x1 - e.x0), e.y1 - (py / box.height) * (e.y1 - e.y0)];
};

/** Draws point sets (x, y interleaved) over what is on the canvas. */
export const drawPoints = (canvas: HTMLCanvasElement, extent: Extent, sets: ReadonlyArray<{ readonly rows: Float32Array; readonly colour: string; readonly radius: number }>): void => {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  for (const set of sets) {
    ctx.fillStyle = set.colour;
    for (let i = 0; i < set.rows.length; i += 2) {
      const [px, py] = toPixel(canvas, extent, set.rows[i] as number, set.rows[i + 1] as number);
      ctx.fillRect(px - set.radius, py - set.radius, 2 * set.radius, 2 * set.radius);
    }
  }
};

export const clear = (canvas: HTMLCanvasElement, colour = '#ffffff'): void => {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  ctx.fillStyle = colour;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
};

// Viridis at five stops, interpolated linearly.
const STOPS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
] as const;

const viridis = (t: number): [number, number, number] => {
  const u = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(u));
  const f = u - i;
  const a = STOPS[i] as readonly number[];
  const b = STOPS[i + 1] as readonly number[];
  return [0, 1, 2].map((k) => Math.round((a[k] as number) + f * ((b[k] as number) - (a[k] as number)))) as [number, number, number];
};

/** Nats below the highest log-density that the colour scale spans (lower is drawn as the darkest). */
export const HEAT_RANGE = 8;

/** The log-density grid as a heatmap filling the canvas: the top HEAT_RANGE nats in viridis. */
export const drawHeat = (canvas: HTMLCanvasElement, logDensity: Float32Array): void => {
  const finite = logDensity.filter(Number.isFinite);
  const top = finite.length === 0 ? 0 : finite.reduce((a, b) => Math.max(a, b), -Infinity);
  const image = new ImageData(GRID, GRID);
  logDensity.forEach((v, i) => {
    const [r, g, b] = Number.isFinite(v) ? viridis(1 - (top - v) / HEAT_RANGE) : [0, 0, 0];
    image.data.set([r, g, b, 255], 4 * i);
  });
  const small = new OffscreenCanvas(GRID, GRID);
  (small.getContext('2d') as OffscreenCanvasRenderingContext2D).putImageData(image, 0, 0);
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
};

/** A curve of (step, value) pairs, or a level drawn across (a baseline). */
export type Series = { readonly label: string; readonly colour: string } & ({ readonly points: ReadonlyArray<readonly [number, number]> } | { readonly level: number });

/** NLL curves against the step, with their baselines as dashed levels and a legend. */
export const drawCurves = (canvas: HTMLCanvasElement, series: readonly Series[], steps: number): void => {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  clear(canvas);
  const values = series.flatMap((s) => ('level' in s ? [s.level] : s.points.map((p) => p[1]))).filter(Number.isFinite);
  if (values.length === 0) return;
  const sorted = [...values].sort((a, b) => a - b);
  // From the lowest value to the 90% quantile: the first steps' large losses would flatten the rest.
  const lo = sorted[0] as number;
  const hi = Math.max(sorted[Math.floor(0.9 * (sorted.length - 1))] as number, ...series.flatMap((s) => ('level' in s ? [s.level] : [])).filter(Number.isFinite));
  const pad = 0.08 * Math.max(hi - lo, 1e-3);
  const [y0, y1] = [lo - pad, hi + pad];
  const left = 44;
  const bottom = canvas.height - 18;
  const x = (step: number): number => left + (step / Math.max(1, steps)) * (canvas.width - left - 8);
  const top = 14 + 13 * Math.ceil(series.length / 2); // the legend's rows above the plot
  const y = (v: number): number => top + ((y1 - Math.min(Math.max(v, y0), y1)) / (y1 - y0)) * (bottom - top);
  ctx.strokeStyle = '#c9ced6';
  ctx.fillStyle = '#5b6470';
  ctx.font = '11px system-ui, sans-serif';
  for (const v of [y0 + pad, (y0 + y1) / 2, y1 - pad]) {
    ctx.beginPath();
    ctx.moveTo(left, y(v));
    ctx.lineTo(canvas.width - 8, y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(2), 2, y(v) + 4);
  }
  ctx.fillText(`step ${steps}`, canvas.width - 60, canvas.height - 4);
  series.forEach((s, k) => {
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 2;
    ctx.setLineDash('level' in s ? [6, 4] : []);
    ctx.beginPath();
    if ('level' in s) {
      ctx.moveTo(left, y(s.level));
      ctx.lineTo(canvas.width - 8, y(s.level));
    } else s.points.forEach(([step, v], i) => (i === 0 ? ctx.moveTo(x(step), y(v)) : ctx.lineTo(x(step), y(v))));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = s.colour;
    ctx.fillText(s.label, left + 6 + 150 * (k % 2), 12 + 13 * Math.floor(k / 2));
  });
  ctx.lineWidth = 1;
};
