/** `typed-flows report`: a markdown report comparing evaluated runs, with their grids and numbers. */
import { writeFile } from 'node:fs/promises';
import { relative, dirname } from 'node:path';
import type { EvalResult } from './eval.js';
import { readJson, runDir, writeJson } from '../run-dir.js';
import { UsageError } from '../io.js';
import { FID_NOT_COMPUTED, LPIPS_NOT_COMPUTED } from '../perceptual-files.js';

export interface ReportInput {
  readonly metrics: EvalResult;
  readonly trainSeconds?: number;
  readonly steps?: number;
  readonly parameters?: number;
}

const f = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** metrics.json written before LPIPS/FID support lacks these fields: read them as not computed. */
const lpipsOf = (m: EvalResult): number | null => m.lpips ?? null;
const fidOf = (m: EvalResult): number | null => m.fid ?? null;

/** What the report says about LPIPS and FID: the numbers' provenance, or how to get them. */
const perceptualNotes = (runs: readonly ReportInput[]): string[] => {
  const notes: string[] = [];
  const withLpips = runs.filter((r) => lpipsOf(r.metrics) !== null);
  const withFid = runs.filter((r) => fidOf(r.metrics) !== null);
  if (withLpips.length > 0)
    notes.push(`LPIPS (AlexNet, v0.1; weights ${[...new Set(withLpips.map((r) => r.metrics.perceptual.lpipsWeights))].join(', ')}): mean over the scored conditions of LPIPS(best sample, ground truth); lower is better.`);
  if (withFid.length > 0) {
    const first = withFid[0]?.metrics.perceptual;
    notes.push(
      `FID (features from ${[...new Set(withFid.map((r) => r.metrics.perceptual.fidModel))].join(', ')}, pixels mapped to [${first?.fidRange?.join(', ')}]): ` +
        `best samples vs the ground truths of the same ${first?.fidSamples} conditions. At so few images FID is biased upwards and noisy: compare it only between runs with the same number of images and the same feature network, never with published FIDs (computed on 10k-50k images).`,
    );
  }
  if (withLpips.length < runs.length) notes.push(`${LPIPS_NOT_COMPUTED}${withLpips.length > 0 ? ` (runs without it: ${runs.filter((r) => lpipsOf(r.metrics) === null).map((r) => r.metrics.name).join(', ')})` : ''}`);
  if (withFid.length < runs.length) notes.push(`${FID_NOT_COMPUTED}${withFid.length > 0 ? ` (runs without it: ${runs.filter((r) => fidOf(r.metrics) === null).map((r) => r.metrics.name).join(', ')})` : ''}`);
  return notes.flatMap((n) => [n, '']);
};

export const renderReport = (title: string, file: string, runs: readonly ReportInput[], notes: readonly string[] = []): string => {
  const first = runs[0]?.metrics;
  const showLpips = runs.some((r) => lpipsOf(r.metrics) !== null);
  const showFid = runs.some((r) => fidOf(r.metrics) !== null);
  const opt = (x: number | null, digits: number): string => (x === null ? '-' : f(x, digits));
  const extraHeads = `${showLpips ? ' LPIPS |' : ''}${showFid ? ' FID |' : ''}`;
  const extraRule = `${showLpips ? ' ---: |' : ''}${showFid ? ' ---: |' : ''}`;
  const extraCells = (m: EvalResult): string => `${showLpips ? ` ${opt(lpipsOf(m), 4)} |` : ''}${showFid ? ` ${opt(fidOf(m), 2)} |` : ''}`;
  const baselineCells = `${showLpips ? ' - |' : ''}${showFid ? ' - |' : ''}`;
  const lines = [
    `# ${title}`,
    '',
    first === undefined ? '' : `Task: **${first.task}**; ${first.pairs} held-out pairs for the NLL; ${first.conditionsScored} conditions scored with the best of ${first.samplesPerCondition} samples at temperature ${first.temperature} (ranked by conditional log-likelihood).`,
    '',
    `| model | parameters | steps | train time | cond. NLL (bits/dim) | RMSE (0-255) | PSNR (dB) | SSIM | diversity (RMSE) |${extraHeads}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${extraRule}`,
    ...runs.map(({ metrics: m, trainSeconds, steps, parameters }) =>
      `| ${m.variant === 'caflow' ? 'CAFLOW' : 'Dual-Glow+'} (${m.name}) | ${parameters === undefined ? '-' : parameters.toLocaleString('en-US')} | ${steps ?? m.step} | ${trainSeconds === undefined ? '-' : `${f(trainSeconds / 60, 1)} min`} | ${f(m.bitsPerDim, 3)} | ${f(m.best.rmse)} | ${f(m.best.psnr)} | ${f(m.best.ssim, 3)} | ${f(m.diversity)} |${extraCells(m)}`,
    ),
    ...(first?.baseline == null
      ? []
      : [`| ${first.task === 'sr' ? 'bicubic' : 'identity (the condition)'} | - | - | - | - | ${f(first.baseline.rmse)} | ${f(first.baseline.psnr)} | ${f(first.baseline.ssim, 3)} | 0 |${baselineCells}`]),
    '',
    ...perceptualNotes(runs),
    'Sample grids: each row is the condition Y, then the samples best first, then the ground truth.',
    '',
    ...runs.flatMap(({ metrics: m }) => [`**${m.name}** (${m.variant})`, '', `![${m.name}](${relative(dirname(file), m.grid)})`, '']),
    ...notes,
  ];
  return `${lines.join('\n')}\n`;
};

/**
 * Where the JSON twin of a report goes: `report.md` (any case) -> `report.json`; any other name gets
 * `.json` appended (`r.txt` -> `r.txt.json`), so the twin never overwrites the report.
 */
export const jsonTwin = (out: string): string => (/\.md$/i.test(out) ? out.replace(/\.md$/i, '.json') : `${out}.json`);

export const reportCommand = async (root: string, names: readonly string[], out: string, title = 'typed-flows report'): Promise<string> => {
  if (names.length === 0) throw new UsageError('report: name at least one evaluated run (--runs a b ...).');
  const runs: ReportInput[] = [];
  for (const name of names) {
    const dir = runDir(root, name);
    const metrics = (await readJson(dir.metrics, `Metrics of run '${name}' (run \`typed-flows eval --name ${name}\` first)`)) as EvalResult;
    runs.push({ metrics });
  }
  const text = renderReport(title, out, runs);
  await writeFile(out, text);
  await writeJson(jsonTwin(out), runs.map((r) => r.metrics));
  return text;
};
