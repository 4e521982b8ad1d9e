/**
 * Learning curves of training runs as one PNG: the training loss (nats/dim) of each run, smoothed over
 * 100 steps, CAFLOW runs in blues and Dual-Glow+ runs in oranges (read from each run's config).
 * Usage: npx tsx scripts/learning-curves.ts --out runs --output docs/images/curves.png run-a run-b ...
 * Prints the axes' ranges and the grid lines' values, for the caption.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeCurvePlot, movingAverage, type Series } from '../src/node/curve-plot.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? (args.splice(i, 2)[1] as string) : fallback;
};
const out = option('--out', 'runs');
const output = option('--output', 'curves.png');
const blues: Array<[number, number, number]> = [[31, 119, 180], [90, 160, 220], [20, 70, 120]];
const oranges: Array<[number, number, number]> = [[255, 127, 14], [230, 160, 80], [180, 90, 10]];
const used = { caflow: 0, dualglow: 0 };
const series: Series[] = args.map((name) => {
  const history = JSON.parse(readFileSync(join(out, name, 'history.json'), 'utf8')) as Array<{ step: number; loss: number }>;
  const config = JSON.parse(readFileSync(join(out, name, 'config.json'), 'utf8')) as { model: { variant: 'caflow' | 'dualglow' } };
  const variant = config.model.variant;
  const palette = variant === 'caflow' ? blues : oranges;
  const color = palette[used[variant]++ % palette.length] as [number, number, number];
  const finite = history.filter((h) => Number.isFinite(h.loss));
  const smooth = movingAverage(finite.map((h) => h.loss), 100);
  return { points: finite.map((h, i) => [h.step, smooth[i] as number] as const), color };
});
const xs = series.flatMap((s) => s.points.map(([x]) => x));
const ys = series.flatMap((s) => s.points.filter(([x]) => x >= 100).map(([, y]) => y)).sort((a, b) => a - b);
const yLow = Math.floor((ys[0] ?? 0) * 10) / 10;
const yHigh = Math.ceil((ys[Math.floor(ys.length * 0.999)] ?? 1) * 10) / 10;
const ticks = Array.from({ length: Math.round((yHigh - yLow) * 10) + 1 }, (_, i) => Math.round((yLow + i / 10) * 10) / 10);
writeFileSync(output, encodeCurvePlot(series, { x: [0, Math.max(...xs)], y: [yLow, yHigh], yTicks: ticks }));
console.log(`${output}: x 0..${Math.max(...xs)} steps, y ${yLow}..${yHigh} nats/dim, grid lines every 0.1`);
