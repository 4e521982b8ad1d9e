/** `typed-flows report`: a markdown report comparing evaluated runs, with their grids and numbers. */
import { writeFile } from 'node:fs/promises';
import { relative, dirname } from 'node:path';
import type { EvalResult } from './eval.js';
import { readJson, runDir, writeJson } from '../run-dir.js';
import { UsageError } from '../io.js';

export interface ReportInput {
  readonly metrics: EvalResult;
  readonly trainSeconds?: number;
  readonly steps?: number;
  readonly parameters?: number;
}

const f = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

export const renderReport = (title: string, file: string, runs: readonly ReportInput[], notes: readonly string[] = []): string => {
  const first = runs[0]?.metrics;
  const lines = [
    `# ${title}`,
    '',
    first === undefined ? '' : `Task: **${first.task}**; ${first.pairs} held-out pairs for the NLL; ${first.conditionsScored} conditions scored with the best of ${first.samplesPerCondition} samples at temperature ${first.temperature} (ranked by conditional log-likelihood).`,
    '',
    '| model | parameters | steps | train time | cond. NLL (bits/dim) | RMSE (0-255) | PSNR (dB) | SSIM | diversity (RMSE) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...runs.map(({ metrics: m, trainSeconds, steps, parameters }) =>
      `| ${m.variant === 'caflow' ? 'CAFLOW' : 'Dual-Glow+'} (${m.name}) | ${parameters === undefined ? '-' : parameters.toLocaleString('en-US')} | ${steps ?? m.step} | ${trainSeconds === undefined ? '-' : `${f(trainSeconds / 60, 1)} min`} | ${f(m.bitsPerDim, 3)} | ${f(m.best.rmse)} | ${f(m.best.psnr)} | ${f(m.best.ssim, 3)} | ${f(m.diversity)} |`,
    ),
    ...(first?.baseline == null
      ? []
      : [`| ${first.task === 'sr' ? 'bicubic' : 'identity (the condition)'} | - | - | - | - | ${f(first.baseline.rmse)} | ${f(first.baseline.psnr)} | ${f(first.baseline.ssim, 3)} | 0 |`]),
    '',
    'LPIPS and FID are not reported: they need pretrained networks (AlexNet/VGG, Inception) whose weights cannot be downloaded here.',
    '',
    'Sample grids: each row is the condition Y, then the samples best first, then the ground truth.',
    '',
    ...runs.flatMap(({ metrics: m }) => [`**${m.name}** (${m.variant})`, '', `![${m.name}](${relative(dirname(file), m.grid)})`, '']),
    ...notes,
  ];
  return `${lines.join('\n')}\n`;
};

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
  await writeJson(out.replace(/\.md$/, '.json'), runs.map((r) => r.metrics));
  return text;
};
