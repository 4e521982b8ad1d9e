/** The learning-curve plot: lines land on the pixels their values map to; the moving average is exact. */
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodeCurvePlot, movingAverage } from '../src/node/curve-plot.js';

describe('curve plot', () => {
  it('draws a horizontal series at the row its value maps to, in its colour', () => {
    const bytes = encodeCurvePlot([{ points: [[0, 0.5], [10, 0.5]], color: [200, 0, 0] }], { width: 112, height: 112, x: [0, 10], y: [0, 1] });
    const png = PNG.sync.read(bytes);
    // y = 0.5 maps to row 112 - 12 - 0.5 * 88 = 56; x from column 12 to 100.
    const at = (x: number, y: number): number[] => Array.from(png.data.subarray(4 * (y * 112 + x), 4 * (y * 112 + x) + 3));
    expect(at(56, 56)).toEqual([200, 0, 0]);
    expect(at(56, 40)).toEqual([255, 255, 255]);
    expect(at(12, 80)).toEqual([0, 0, 0]); // the y axis
  });

  it('moving average: running means over a window', () => {
    expect(movingAverage([1, 2, 3, 4, 5], 2)).toEqual([1, 1.5, 2.5, 3.5, 4.5]);
    expect(movingAverage([4, 4, 4], 10)).toEqual([4, 4, 4]);
  });
});
