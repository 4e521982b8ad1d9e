/** docs/performance.md is generated: rendering bench/results.json again gives the file byte for byte. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { performanceMarkdown, type BenchResults } from '../../bench/report.js';

describe('bench/report.ts', () => {
  it('performanceMarkdown(bench/results.json) is docs/performance.md', () => {
    const results = JSON.parse(readFileSync('bench/results.json', 'utf8')) as BenchResults;
    expect(performanceMarkdown(results)).toBe(readFileSync('docs/performance.md', 'utf8'));
  });
});

describe('bench/report.ts, the exported CAFLOW figure', () => {
  it('reports the exported model\'s PyTorch step against the hand-written one when a run measured it', () => {
    const results = JSON.parse(readFileSync('bench/results.json', 'utf8')) as BenchResults;
    const timing = (median_ms: number) => ({ median_ms, samples_ms: [median_ms - 1, median_ms, median_ms + 2] });
    const withExported: BenchResults = { ...results, versusPytorch: { ...results.versusPytorch, exported: { exported: timing(103), handwritten: timing(100), ratio: 1.03, params: 826864 } } };
    const md = performanceMarkdown(withExported);
    expect(md).toContain('a ratio of 1.03× (826,864 parameters)');
    // A run made before the exported figure existed has no `exported`: no paragraph then.
    const { exported: _measured, ...before } = results.versusPytorch;
    expect(performanceMarkdown({ ...results, versusPytorch: before })).not.toContain('The exported model in PyTorch');
  });
});
