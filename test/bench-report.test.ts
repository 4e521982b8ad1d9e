/** docs/performance.md is generated: rendering bench/results.json again gives the file byte for byte. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { performanceMarkdown, type BenchResults } from '../bench/report.js';

describe('bench/report.ts', () => {
  it('performanceMarkdown(bench/results.json) is docs/performance.md', () => {
    const results = JSON.parse(readFileSync('bench/results.json', 'utf8')) as BenchResults;
    expect(performanceMarkdown(results)).toBe(readFileSync('docs/performance.md', 'utf8'));
  });
});
