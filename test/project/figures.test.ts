/**
 * Figures as Vega-Lite specs (src/plots) rendered to SVG + PNG (src/node/figure.ts): the specs' data
 * obey their rules for any input (clipping, error bars, grid cells, moving averages), and every kind of
 * figure the CLI and docs write renders with its axis titles, legend entries and colour-scale title in
 * the SVG text, and a PNG of the SVG's size times the scale.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { renderFigure, svgBeside, writeFigure } from '../../src/node/figure.js';
import { writeSampleGrid } from '../../src/node/sample-grid.js';
import {
  CLIPPED_ABOVE,
  CLIPPED_BELOW,
  COST_TITLE,
  LOG_P_TITLE,
  RANK_TITLE,
  curveRange,
  densityFigureSpec,
  gridCentres,
  learningCurveSpec,
  movingAverage,
  nllComparisonSpec,
  rankedSamplesSpec,
  sampleGridColumns,
  sampleGridSpec,
  scalingSpec,
  type CurveSeries,
} from '../../src/plots/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'figures-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The text of every <text> element of an SVG, entities decoded. */
const texts = (svg: string): string[] =>
  [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    (m[1] as string).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&'),
  );

/** The rows of a spec's inline data (or of its layers' / panels' data). */
const rowsOf = (spec: unknown): Array<Record<string, unknown>> => (spec as { data: { values: Array<Record<string, unknown>> } }).data.values;

const svgWidth = (svg: string): number => Number(/<svg[^>]*width="(\d+)"/.exec(svg)?.[1]);

const finiteSeries = fc.array(
  fc.record({
    label: fc.string({ minLength: 1, maxLength: 8 }),
    points: fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.double({ min: -50, max: 50, noNaN: true })), { minLength: 1, maxLength: 30 }),
  }),
  { minLength: 1, maxLength: 4 },
);

describe('plot specs (data)', () => {
  it('learning curves: every point is drawn inside the y range and marked exactly when it was clipped', () => {
    fc.assert(
      fc.property(finiteSeries, fc.double({ min: -40, max: 0, noNaN: true }), fc.double({ min: 0.1, max: 40, noNaN: true }), (series, lo, width) => {
        const hi = lo + width;
        const rows = rowsOf(learningCurveSpec(series, { title: 't', yTitle: 'loss (nats/dim)', yRange: [lo, hi] }));
        expect(rows.length).toBe(series.reduce((n, s) => n + s.points.length, 0));
        for (const r of rows) {
          const v = r.value as number;
          const shown = r.shown as number;
          expect(shown).toBeGreaterThanOrEqual(lo);
          expect(shown).toBeLessThanOrEqual(hi);
          expect(r.clipped).toBe(v > hi ? CLIPPED_ABOVE : v < lo ? CLIPPED_BELOW : null);
          if (r.clipped === null) expect(shown).toBe(v);
        }
      }),
    );
  });

  it('curveRange contains every value at or after `from` below the quantile, with 5 % padding', () => {
    fc.assert(
      fc.property(finiteSeries, (series: CurveSeries[]) => {
        const [lo, hi] = curveRange(series);
        const ys = series.flatMap((s) => s.points.map(([, y]) => y));
        const span = Math.max(Math.max(...ys) - Math.min(...ys), 1e-6);
        // Exact up to the float rounding of lo - pad (1e-9 of values at most 50 in size).
        expect(lo).toBeCloseTo(Math.min(...ys) - 0.05 * span, 9);
        expect(hi).toBeCloseTo(Math.max(...ys) + 0.05 * span, 9);
      }),
    );
  });

  it('moving average: the mean of the last `window` values (fewer at the start)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { maxLength: 40 }), fc.integer({ min: 1, max: 10 }), (xs, window) => {
        const got = movingAverage(xs, window);
        got.forEach((g, i) => {
          const part = xs.slice(Math.max(0, i - window + 1), i + 1);
          // Running sums drift from a fresh sum by rounding only: 1e-9 of the values' scale (1e3).
          expect(g).toBeCloseTo(part.reduce((a, b) => a + b, 0) / part.length, 6);
        });
      }),
    );
  });

  it('NLL comparison: each bar spans the NLL ± its standard error, models in the order given', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ model: fc.string({ minLength: 1 }), nll: fc.double({ min: -10, max: 10, noNaN: true }), standardError: fc.double({ min: 0, max: 1, noNaN: true }) }), {
          selector: (m) => m.model,
          minLength: 1,
          maxLength: 5,
        }),
        (models) => {
          const rows = rowsOf(nllComparisonSpec(models));
          expect(rows.map((r) => r.model)).toEqual(models.map((m) => m.model));
          rows.forEach((r, i) => {
            expect(r.low).toBe((models[i]?.nll as number) - (models[i]?.standardError as number));
            expect(r.high).toBe((models[i]?.nll as number) + (models[i]?.standardError as number));
          });
        },
      ),
    );
  });

  it('density grid: each cell centre lies in its own cell, row 0 at the bottom', () => {
    fc.assert(
      fc.property(fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: 0.5, max: 5, noNaN: true }), fc.integer({ min: 1, max: 12 }), (x0, width, size) => {
        const win = { x: [x0, x0 + width] as const, y: [x0 - 1, x0 - 1 + 2 * width] as const };
        const c = gridCentres(win, size);
        for (let j = 0; j < size; j++)
          for (let i = 0; i < size; i++) {
            expect(Math.floor(((c[2 * (j * size + i)] as number) - win.x[0]) / (width / size))).toBe(i);
            expect(Math.floor(((c[2 * (j * size + i) + 1] as number) - win.y[0]) / ((2 * width) / size))).toBe(j);
          }
      }),
    );
  });

  it('density figure: cells are floored at the scale depth below the maximum and -inf cells are left out', () => {
    const logp = [0, -1, -100, -Infinity];
    const spec = densityFigureSpec({ x: [0, 1], y: [0, 1] }, [{ kind: 'density', title: 'model', size: 2, logp }], { depth: 5 });
    const panel = (spec as { hconcat: unknown[] }).hconcat[0];
    expect(rowsOf(panel).map((r) => r.logp)).toEqual([0, -1, -5]);
  });

  it('sample grid: k + 2 labelled columns; a row with the wrong number of images is refused', () => {
    expect(sampleGridColumns(3)).toEqual(['condition', 'best', '2', '3', 'truth']);
    expect(() => sampleGridSpec([{ label: 'a', images: ['u', 'v', 'w'] }, { label: 'b', images: ['u', 'v'] }])).toThrow(/'b' has 2/);
  });
});

describe('rendered figures (SVG text and PNG)', () => {
  it('learning curves: axis titles, one legend entry per run, the clipping entry; PNG twice the SVG', async () => {
    const series = [0, 1, 2].map((s) => ({ label: `CAFLOW seed ${s}`, points: Array.from({ length: 50 }, (_, i) => [10 * i, 2 / (1 + i) + 1 + 0.01 * s] as const) }));
    const { svg, png } = await renderFigure(learningCurveSpec(series, { title: 'Training loss', yTitle: 'training loss (nats/dim)', yRange: [1, 1.5] }));
    const t = texts(svg);
    for (const want of ['training step', 'training loss (nats/dim)', 'Training loss', 'CAFLOW seed 0', 'CAFLOW seed 1', 'CAFLOW seed 2', CLIPPED_ABOVE]) expect(t).toContain(want);
    expect(t).not.toContain(CLIPPED_BELOW);
    expect(PNG.sync.read(png).width).toBe(2 * svgWidth(svg));
  });

  it('NLL comparison: axis title with the unit, a legend entry per model', async () => {
    const models = [
      { model: 'flow', nll: 1.1, standardError: 0.02 },
      { model: 'Gaussian', nll: 2.3, standardError: 0.03 },
      { model: 'Gaussian mixture', nll: 1.4, standardError: 0.02 },
    ];
    const t = texts((await renderFigure(nllComparisonSpec(models))).svg);
    for (const want of ['held-out NLL (nats per dimension)', 'model', 'flow', 'Gaussian', 'Gaussian mixture']) expect(t).toContain(want);
  });

  it('density figure: titled panels, axis titles, the colour scale titled with its unit', async () => {
    const win = { x: [-2, 2] as const, y: [-2, 2] as const };
    const size = 8;
    const c = gridCentres(win, size);
    const logp = Array.from({ length: size * size }, (_, k) => -0.5 * ((c[2 * k] as number) ** 2 + (c[2 * k + 1] as number) ** 2) - Math.log(2 * Math.PI));
    const points = [0, 0, 1, 1, -1, 0.5];
    const spec = densityFigureSpec(win, [
      { kind: 'points', title: 'data', points },
      { kind: 'density', title: 'model', size, logp },
      { kind: 'points', title: 'samples', points },
      { kind: 'density', title: 'mixture baseline', size, logp },
    ]);
    const t = texts((await renderFigure(spec)).svg);
    for (const want of ['data', 'model', 'samples', 'mixture baseline', 'x₁', 'x₂', LOG_P_TITLE]) expect(t).toContain(want);
  });

  it('sample grid (eval, sample): column and row labels in the SVG, written beside the PNG, no tensor left', async () => {
    const file = join(tmp, 'samples.png');
    const y = tf.fill([2, 4, 4, 1], 100) as tf.Tensor4D;
    const w = tf.fill([2, 4, 4, 3], 200) as tf.Tensor4D;
    const s = tf.fill([6, 4, 4, 3], 50) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    await writeSampleGrid(file, y, s, w, 3, 'CAFLOW, task sr, step 1, temperature 0.5');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, w, s]);
    const t = texts(readFileSync(svgBeside(file), 'utf8'));
    for (const want of [...sampleGridColumns(3), 'held-out pair 0', 'held-out pair 1', 'CAFLOW, task sr, step 1, temperature 0.5']) expect(t).toContain(want);
    expect(t.some((x) => x.includes('best first'))).toBe(true);
    // The images are drawn unsmoothed at scale 1: the samples' grey 50 and the truths' 200 appear exactly.
    const png = PNG.sync.read(readFileSync(file));
    const greys = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4) if (png.data[i] === png.data[i + 1] && png.data[i] === png.data[i + 2]) greys.add(png.data[i] as number);
    expect(greys.has(50) && greys.has(200) && greys.has(100)).toBe(true);
  });

  it('bench scaling (docs/performance.md): a panel per sweep and quantity with unit-titled axes', async () => {
    const points = [16, 32, 64].map((x, i) => ({ sweep: 'pixels' as const, x, msPerStep: 100 * 2 ** i, peakTensorMiB: 30 * 2 ** i }));
    const t = texts((await renderFigure(scalingSpec([...points, { sweep: 'depth', x: 2, msPerStep: 150, peakTensorMiB: 70 }, { sweep: 'depth', x: 4, msPerStep: 300, peakTensorMiB: 140 }]))).svg);
    for (const want of ['image side (px)', 'flow steps per block', 'median step time (ms)', 'peak tensor memory (MiB)', 'step time vs image size', 'peak tensor memory vs depth']) expect(t).toContain(want);
  });

  it("ranked samples (the playground's plot): both axis titles, one rank label per sample, in rank order", async () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.5, max: 4, noNaN: true }), { minLength: 1, maxLength: 32 }), (costs) => {
        // The page passes ranks 1..k; the spec keeps each rank's cost and orders the axis by rank whatever the row order.
        const spec = rankedSamplesSpec(costs.map((bitsPerDim, i) => ({ rank: costs.length - i, bitsPerDim })));
        expect(rowsOf(spec).map((r) => r.bitsPerDim)).toEqual(costs);
        const sort = (spec as { encoding: { x: { sort: number[] } } }).encoding.x.sort;
        expect(sort).toEqual(costs.map((_, i) => i + 1));
      }),
    );
    const costs = [1.02, 1.05, 1.09, 1.2, 1.31];
    const t = texts((await renderFigure(rankedSamplesSpec(costs.map((bitsPerDim, i) => ({ rank: i + 1, bitsPerDim })), { subtitle: '5 samples' }))).svg);
    for (const want of [RANK_TITLE, COST_TITLE, '5 samples', '1', '2', '3', '4', '5']) expect(t).toContain(want);
    const ranks = t.filter((x) => /^[1-5]$/.test(x));
    expect(ranks).toEqual(['1', '2', '3', '4', '5']);
  });

  it('writeFigure writes the PNG and its SVG beside it', async () => {
    const r = await writeFigure(join(tmp, 'sub', 'nll.png'), nllComparisonSpec([{ model: 'flow', nll: 1, standardError: 0.1 }]));
    expect(r.svg).toBe(join(tmp, 'sub', 'nll.svg'));
    expect(existsSync(r.png) && existsSync(r.svg)).toBe(true);
  });

  it("scripts/readme-figure.ts (the README's picture) labels its columns and rows", () => {
    const output = join(tmp, 'readme.png');
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/readme-figure.ts', '--output', output, '--rows', '2', '--k', '3'], { stdio: 'pipe' });
    const t = texts(readFileSync(svgBeside(output), 'utf8'));
    for (const want of [...sampleGridColumns(3), 'held-out pair 0', 'held-out pair 1']) expect(t).toContain(want);
    expect(t.some((x) => x.startsWith('CAFLOW, task sr'))).toBe(true);
  });

  it('scripts/learning-curves.ts (the docs\' curves) labels each run by model and seed', () => {
    const runs = join(tmp, 'runs');
    for (const [name, variant, seed] of [['a-s0', 'caflow', 0], ['b-s0', 'dualglow', 0]] as const) {
      mkdirSync(join(runs, name), { recursive: true });
      writeFileSync(join(runs, name, 'history.json'), JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ step: i, loss: 1 + 1 / (1 + i) }))));
      writeFileSync(join(runs, name, 'config.json'), JSON.stringify({ model: { variant }, train: { seed } }));
    }
    const output = join(tmp, 'curves.png');
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/learning-curves.ts', '--out', runs, '--output', output, 'a-s0', 'b-s0'], { stdio: 'pipe' });
    const t = texts(readFileSync(svgBeside(output), 'utf8'));
    for (const want of ['CAFLOW seed 0', 'Dual-Glow+ seed 0', 'training loss (nats/dim)', 'training step', CLIPPED_ABOVE]) expect(t).toContain(want);
  });
});
