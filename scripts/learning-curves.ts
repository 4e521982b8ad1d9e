/**
 * Learning curves of training runs as one figure (PNG with its SVG beside it): the training loss
 * (nats/dim) of each run, smoothed over 100 steps, one colour per run with a legend naming its model
 * and seed (read from each run's config). The y axis shows the bulk of the curves (up to the 99.9 %
 * quantile after step 100); the early steps above it are clipped and marked with triangles.
 * Usage: npx tsx scripts/learning-curves.ts --out runs --output docs/images/curves.png run-a run-b ...
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { variantName } from '../src/experiments/config.js';
import { writeFigure } from '../src/node/figure.js';
import { curveRange, learningCurveSpec, movingAverage, type CurveSeries } from '../src/plots/learning-curves.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? (args.splice(i, 2)[1] as string) : fallback;
};
const out = option('--out', 'runs');
const output = option('--output', 'curves.png');
const series: CurveSeries[] = args.map((name) => {
  const history = JSON.parse(readFileSync(join(out, name, 'history.json'), 'utf8')) as Array<{ step: number; loss: number }>;
  const config = JSON.parse(readFileSync(join(out, name, 'config.json'), 'utf8')) as { model: { variant: 'caflow' | 'dualglow' }; train: { seed: number } };
  const finite = history.filter((h) => Number.isFinite(h.loss));
  const smooth = movingAverage(finite.map((h) => h.loss), 100);
  return { label: `${variantName(config.model.variant)} seed ${config.train.seed}`, points: finite.map((h, i) => [h.step, smooth[i] as number] as const) };
});
const spec = learningCurveSpec(series, {
  title: 'Training loss',
  subtitle: `moving average over 100 steps; runs ${args.join(', ')}`,
  yTitle: 'training loss (nats/dim)',
  yRange: curveRange(series, { from: 100, upper: 0.999 }),
});
const written = await writeFigure(output, spec);
console.log(`wrote ${written.png} and ${written.svg}`);
