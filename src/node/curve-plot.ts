/**
 * Line plots of learning curves as PNG (pngjs), without text: a white canvas, the axes, light
 * horizontal grid lines at `yTicks`, and one coloured polyline per series. The caller states the axes'
 * ranges and the colours in the caption (docs/experiments.md does).
 */
import { PNG } from 'pngjs';

export interface Series {
  /** (x, y) points in order of x. */
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly color: readonly [number, number, number];
}

export interface CurvePlotOptions {
  readonly width?: number;
  readonly height?: number;
  readonly x: readonly [number, number];
  readonly y: readonly [number, number];
  /** y values of light grid lines. */
  readonly yTicks?: readonly number[];
}

const MARGIN = 12;

/** The PNG bytes of the plot. Points outside the ranges are clipped to the frame. */
export const encodeCurvePlot = (series: readonly Series[], options: CurvePlotOptions): Buffer => {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const png = new PNG({ width, height });
  png.data.fill(255);
  const set = (px: number, py: number, [r, g, b]: readonly [number, number, number]): void => {
    if (px < 0 || py < 0 || px >= width || py >= height) return;
    const i = 4 * (Math.round(py) * width + Math.round(px));
    png.data[i] = r;
    png.data[i + 1] = g;
    png.data[i + 2] = b;
    png.data[i + 3] = 255;
  };
  const [x0, x1] = options.x;
  const [y0, y1] = options.y;
  const toPx = (x: number): number => MARGIN + ((Math.min(Math.max(x, x0), x1) - x0) / (x1 - x0)) * (width - 2 * MARGIN);
  const toPy = (y: number): number => height - MARGIN - ((Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * (height - 2 * MARGIN);
  for (const t of options.yTicks ?? []) for (let px = MARGIN; px <= width - MARGIN; px++) set(px, toPy(t), [220, 220, 220]);
  for (let px = MARGIN; px <= width - MARGIN; px++) set(px, height - MARGIN, [0, 0, 0]);
  for (let py = MARGIN; py <= height - MARGIN; py++) set(MARGIN, py, [0, 0, 0]);
  for (const s of series) {
    s.points.forEach(([x, y], i) => {
      if (i === 0) return;
      const [xa, ya] = s.points[i - 1] as readonly [number, number];
      const [ax, ay, bx, by] = [toPx(xa), toPy(ya), toPx(x), toPy(y)];
      const n = Math.max(1, Math.ceil(Math.max(Math.abs(bx - ax), Math.abs(by - ay))));
      for (let k = 0; k <= n; k++) set(ax + ((bx - ax) * k) / n, ay + ((by - ay) * k) / n, s.color);
    });
  }
  return PNG.sync.write(png);
};

/** A moving average over `window` points (the first points average what there is). */
export const movingAverage = (values: readonly number[], window: number): number[] => {
  let sum = 0;
  return values.map((v, i) => {
    sum += v;
    if (i >= window) sum -= values[i - window] as number;
    return sum / Math.min(i + 1, window);
  });
};
