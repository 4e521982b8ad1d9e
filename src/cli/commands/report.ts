/** `typed-flows report`: a markdown report comparing evaluated runs, with their grids and numbers. */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { relative, dirname } from 'node:path';
import type { EvalResult } from './eval.js';
import { readJson, runDir, writeJson } from '../run-dir.js';
import { checkOutput, REPORT_MARKER } from '../output-rule.js';
import { variantName } from '../../experiments/config.js';
import { UsageError } from '../io.js';
import { FID_NOT_COMPUTED, LPIPS_NOT_COMPUTED } from '../perceptual-files.js';
import { mean, parseRunName, pairBySeed, summarize, verdict, type Better, type SeedValue, type Verdict } from '../../experiments/seeds.js';

export interface ReportInput {
  readonly metrics: EvalResult;
  readonly trainSeconds?: number;
  readonly steps?: number;
  readonly parameters?: number;
  /** The run's seed when its name has no `-s<seed>` suffix (from its config); pairs runs across models. */
  readonly seed?: number;
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

/**
 * The report's markdown: the outcome first (with `context`, sentences that belong to it, e.g. what the
 * paper found), then the table with every metric defined, the seed statistics, the grids and `notes`.
 */
export const renderReport = (title: string, file: string, runs: readonly ReportInput[], notes: readonly string[] = [], context: readonly string[] = []): string => {
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
    ...outcomeParagraph(runs, context),
    first === undefined ? '' : `Task: **${first.task}**; ${first.pairs} held-out pairs for the NLL; ${first.conditionsScored} conditions scored with the best of ${first.samplesPerCondition} samples at temperature ${first.temperature} (ranked by conditional log-likelihood).`,
    '',
    `| model | parameters | steps | train time | cond. NLL (bits/dim, bound) ± SE | RMSE (0-255) | PSNR (dB) | SSIM | diversity (RMSE) |${extraHeads}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${extraRule}`,
    ...runs.map(({ metrics: m, trainSeconds, steps, parameters }) =>
      `| ${variantName(m.variant)} (${m.name}) | ${parameters === undefined ? '-' : parameters.toLocaleString('en-US')} | ${steps ?? m.step} | ${trainSeconds === undefined ? '-' : `${f(trainSeconds / 60, 1)} min`} | ${f(m.bitsPerDim, 3)}${m.nll === undefined ? '' : ` ± ${f(m.nll.pairStandardError, 3)}`} | ${f(m.best.rmse)} | ${f(m.best.psnr)} | ${f(m.best.ssim, 3)} | ${f(m.diversity)} |${extraCells(m)}`,
    ),
    ...(first?.baseline == null
      ? []
      : [`| ${first.task === 'sr' ? 'bicubic' : 'identity (the condition)'} | - | - | - | - | ${f(first.baseline.rmse)} | ${f(first.baseline.psnr)} | ${f(first.baseline.ssim, 3)} | 0 |${baselineCells}`]),
    '',
    ...(first?.nll === undefined ? [] : [`Mid-bin cond. NLL (u = 0.5, not a bound; bits/dim): ${runs.map(({ metrics: m }) => `${f(m.nll?.midBin ?? Number.NaN, 3)} (${m.name})`).join(', ')}.`, '']),
    'What the columns mean:',
    '',
    ...METRIC_DEFINITIONS,
    '',
    ...seedSections(runs),
    ...perceptualNotes(runs),
    'Sample grids: each row is the condition Y, then the samples best first, then the ground truth.',
    '',
    ...runs.flatMap(({ metrics: m }) => [`**${m.name}** (${m.variant})`, '', `![${m.name}](${relative(dirname(file), m.grid)})`, '']),
    ...notes,
  ];
  return `${lines.join('\n')}\n`;
};

interface Metric {
  readonly label: string;
  readonly better: Better | null;
  readonly digits: number;
  readonly value: (m: EvalResult) => number;
  /** The run's own standard error of the metric, when it has one. */
  readonly standardError?: (m: EvalResult) => number | undefined;
}

/** The metrics compared across seeds; the NLL brings its standard error over the held-out pairs. */
const METRICS: readonly Metric[] = [
  { label: 'cond. NLL (bits/dim, bound)', better: 'lower', digits: 3, value: (m) => m.bitsPerDim, standardError: (m) => m.nll?.pairStandardError },
  { label: 'RMSE', better: 'lower', digits: 2, value: (m) => m.best.rmse },
  { label: 'PSNR (dB)', better: 'higher', digits: 2, value: (m) => m.best.psnr },
  { label: 'SSIM', better: 'higher', digits: 3, value: (m) => m.best.ssim },
  { label: 'diversity', better: null, digits: 2, value: (m) => m.diversity },
];

/** Each metric of the report, defined where it is reported (docs/experiments.md has the same words). */
export const METRIC_DEFINITIONS: readonly string[] = [
  '- **cond. NLL (bits/dim, bound)**: −log p(W | Y) per dimension of W, in bits, averaged over the held-out pairs and over uniform dequantisation noise u ~ U(0, 1) added to W: an upper bound on the discrete NLL, as in the flow literature; ± its standard error over the held-out pairs; lower is better. **Mid-bin** is the same with u = 0.5 for every pixel: not a bound, and lower.',
  '- **RMSE (0-255)**: root mean squared error, on the 0-255 pixel scale, between the best sample of each condition (the one with the highest log p(W | Y)) and the ground truth, averaged over the scored conditions; lower is better.',
  '- **PSNR (dB)**: peak signal-to-noise ratio of the best sample against the ground truth, 10 log10(255² / MSE) per image, averaged; higher is better.',
  '- **SSIM**: structural similarity (Wang et al. 2004; 11×11 Gaussian window, σ = 1.5) of the best sample and the ground truth, 1 for identical images; higher is better.',
  '- **diversity (RMSE)**: mean RMSE (0-255) between two samples of the same condition: how much the samples differ from one another (0: the same answer every time); neither direction is better in itself.',
];

/** What a report with one seed per model says instead of seed tables. */
export const ONE_SEED_NOTE =
  'One seed per model: there is no spread across seeds, so no difference is called outside noise. To measure it, run several seeds: `typed-flows demo --seeds 3`, or `typed-flows train --seeds 3` then `typed-flows report --runs <name>`.';

/**
 * The report's first paragraph: what happened. For two or more models, which of the first two is ahead
 * on each metric (means over seeds) and whether the differences are outside noise (the seed rule; with
 * one seed, only the held-out standard error of the NLL is known, and the paragraph says so).
 */
export const outcomeParagraph = (runs: readonly ReportInput[], context: readonly string[] = []): string[] => {
  const short = (metric: Metric): string => metric.label.replace(/ \(.*\)$/, '');
  const models = groupModels(runs);
  const a = models[0];
  if (a === undefined) return [];
  const steps = [...new Set(runs.map((r) => r.steps ?? r.metrics.step))].join(' / ');
  const meanOf = (m: SeedModel, metric: Metric): number => mean(valuesOf(m, metric).map((v) => v.value));
  const scored = METRICS.filter((m) => m.better !== null);
  const quote = (m: SeedModel): string => scored.map((metric) => `${short(metric)} ${f(meanOf(m, metric), metric.digits)}`).join(', ');
  const b = models[1];
  if (b === undefined) {
    const baseline = runs[0]?.metrics.baseline;
    return [
      `**Outcome**: ${modelLabel(a)} after ${steps} training steps: ${quote(a)} (cond. NLL in bits/dim, the bound; RMSE on 0-255; PSNR in dB)` +
        (baseline == null ? '.' : `; the condition itself as a prediction (${a.runs[0]?.metrics.task === 'sr' ? 'bicubic' : 'identity'}) scores RMSE ${f(baseline.rmse)}, PSNR ${f(baseline.psnr)} dB, SSIM ${f(baseline.ssim, 3)}.`) +
        context.map((c) => ` ${c}`).join(''),
      '',
    ];
  }
  const name = (m: SeedModel): string => variantName(m.variant) + (models.filter((x) => x.variant === m.variant).length > 1 ? ` (${m.stem})` : '');
  const ahead = scored.map((metric) => {
    const [va, vb] = [meanOf(a, metric), meanOf(b, metric)];
    const aAhead = metric.better === 'lower' ? va < vb : va > vb;
    return { metric, leader: va === vb ? null : aAhead ? a : b, text: `${short(metric)} ${f(va, metric.digits)} vs ${f(vb, metric.digits)}${metric.label.slice(short(metric).length)}` };
  });
  const leaders = new Set(ahead.map((x) => x.leader));
  const comparison =
    leaders.size === 1 && !leaders.has(null)
      ? `**${name([...leaders][0] as SeedModel)} is ahead of ${name([...leaders][0] === a ? b : a)} on every metric**`
      : [
          ...[a, b].map((m) => ({ who: `${name(m)} is ahead on`, on: ahead.filter((x) => x.leader === m) })),
          { who: 'tied on', on: ahead.filter((x) => x.leader === null) },
        ]
          .filter((part) => part.on.length > 0)
          .map((part) => `${part.who} ${part.on.map((x) => short(x.metric)).join(', ')}`)
          .join('; ');
  const paired = scored.map((metric) => ({ metric, p: pairBySeed(valuesOf(a, metric), valuesOf(b, metric)) }));
  const n = paired[0]?.p.a.length ?? 0;
  let noise: string;
  if (n >= 2) {
    const verdicts = paired.map(({ metric, p }) => ({ metric, v: verdict(p.a, p.b, metric.better ?? 'higher') }));
    const outside = verdicts.filter((x) => x.v.kind === 'a' || x.v.kind === 'b').map((x) => short(x.metric));
    noise =
      outside.length === 0
        ? `Over ${n} paired seeds every difference is within noise (the rule under "Paired differences").`
        : `Over ${n} paired seeds the difference is outside noise for ${outside.join(', ')} and within noise for the rest (the rule under "Paired differences").`;
  } else {
    const ea = a.runs[0]?.metrics.nll?.pairStandardError;
    const eb = b.runs[0]?.metrics.nll?.pairStandardError;
    const nll = METRICS[0] as Metric;
    const gap = Math.abs(meanOf(a, nll) - meanOf(b, nll));
    const se = ea === undefined || eb === undefined ? undefined : Math.sqrt(ea * ea + eb * eb);
    noise =
      'With one seed per model it cannot be said whether these differences are outside noise: the spread across seeds is unknown (run `--seeds 3` to measure it).' +
      (se === undefined || !(se > 0) ? '' : ` The NLL gap, ${f(gap, 3)} bits/dim, is ${f(gap / se, 1)} times the standard error that comes from the choice of held-out pairs alone.`);
  }
  return [[`**Outcome** after ${steps} training steps: ${comparison} (${ahead.map((x) => x.text).join('; ')}).`, ...context, noise].join(' '), ''];
};

/** A model: the runs of one name stem (`<stem>-s<seed>`), each with its seed. */
export interface SeedModel {
  readonly stem: string;
  readonly variant: string;
  readonly runs: ReadonlyArray<{ readonly seed: number | undefined; readonly metrics: EvalResult }>;
}

/** Groups runs into models by name stem, in the order the models first appear. */
export const groupModels = (runs: readonly ReportInput[]): SeedModel[] => {
  const models = new Map<string, { stem: string; variant: string; runs: Array<{ seed: number | undefined; metrics: EvalResult }> }>();
  for (const r of runs) {
    const { stem, seed } = parseRunName(r.metrics.name);
    const model = models.get(stem) ?? { stem, variant: r.metrics.variant, runs: [] };
    model.runs.push({ seed: seed ?? r.seed, metrics: r.metrics });
    models.set(stem, model);
  }
  return [...models.values()];
};

const modelLabel = (m: SeedModel): string => `${variantName(m.variant)} (${m.stem})`;
const seedList = (seeds: ReadonlyArray<number | undefined>): string => seeds.map((s) => (s === undefined ? '?' : String(s))).join(', ');
const signed = (x: number, digits: number): string => `${x > 0 ? '+' : x < 0 ? '−' : ''}${f(Math.abs(x), digits)}`;

const valuesOf = (model: SeedModel, metric: Metric): SeedValue[] =>
  model.runs.map((r) => {
    const se = metric.standardError?.(r.metrics);
    // metrics.json stores NaN as null (a diverged run): read it as NaN, not 0.
    const value: unknown = metric.value(r.metrics);
    return { seed: r.seed, value: typeof value === 'number' ? value : NaN, ...(se === undefined || !Number.isFinite(se) ? {} : { standardError: se }) };
  });

/** The words of a verdict: which model is better (or higher, for a metric without a direction), or why none is. */
export const verdictWords = (v: Verdict, a: string, b: string, better: Better | null): string => {
  if (v.kind === 'single-seed') return 'one seed: no spread across seeds, no verdict';
  if (v.kind === 'not-finite') return 'a value is not finite (a diverged run?): no verdict';
  if (v.kind === 'within-noise') return 'within noise';
  const winner = v.kind === 'a' ? a : b;
  // Without a better direction the verdict was taken with 'higher': the winner has the higher value.
  if (better === null) return `${winner} higher (outside the noise)`;
  return `**${winner} better** (${better})`;
};

/** The rule the verdicts follow, as the report states it. */
export const SEED_RULE =
  'A model is called better only when the paired 95 % t interval of the mean difference excludes 0: |mean of a_i − b_i| > t(0.975, n − 1) × SE, ' +
  'with SE = sqrt(s_d² / n + Σ (e_a,i² + e_b,i²) / n²), s_d the sample standard deviation of the differences over the n seeds run for both models (same seed paired) ' +
  "and e the runs' own standard errors (the NLL's over the held-out pairs; none for the other metrics). Otherwise the difference is within noise. " +
  'With one seed there is no spread across seeds, so no verdict is given.';

/** Mean ± std over seeds per model, and the paired differences between models with their verdicts. */
export const seedSections = (runs: readonly ReportInput[]): string[] => {
  const models = groupModels(runs);
  if (models.every((m) => m.runs.length < 2)) return models.length < 2 ? [] : [ONE_SEED_NOTE, ''];
  const cell = (xs: readonly number[], digits: number): string => {
    const s = summarize(xs);
    return s.std === null ? `${f(s.mean, digits)} (one seed)` : `${f(s.mean, digits)} ± ${f(s.std, digits)}`;
  };
  const lines = [
    '## Across seeds',
    '',
    'Mean ± sample standard deviation over the seeds of each model (runs named `<model>-s<seed>`).',
    '',
    `| model | seeds | ${METRICS.map((m) => m.label).join(' | ')} |`,
    `| --- | --- |${METRICS.map(() => ' ---: |').join('')}`,
    ...models.map((model) => `| ${modelLabel(model)} | ${model.runs.length} (${seedList(model.runs.map((r) => r.seed))}) | ${METRICS.map((m) => cell(valuesOf(model, m).map((v) => v.value), m.digits)).join(' | ')} |`),
    '',
  ];
  if (models.length < 2) return lines;
  lines.push('## Paired differences', '', SEED_RULE, '', '| a − b | metric | seeds paired | mean difference | std of differences | 95 % half-width | verdict |', '| --- | --- | --- | ---: | ---: | ---: | --- |');
  const unpairedNotes: string[] = [];
  for (let i = 0; i < models.length; i++) {
    for (let j = i + 1; j < models.length; j++) {
      const a = models[i] as SeedModel;
      const b = models[j] as SeedModel;
      for (const metric of METRICS) {
        const p = pairBySeed(valuesOf(a, metric), valuesOf(b, metric));
        if (metric === METRICS[0] && p.unpaired.length > 0) unpairedNotes.push(`${a.stem} vs ${b.stem}: seeds ${seedList(p.unpaired)} were run for only one of the two and are left out of the differences.`);
        if (p.a.length === 0) {
          lines.push(`| ${a.stem} − ${b.stem} | ${metric.label} | none | - | - | - | no common seed: not compared |`);
          continue;
        }
        const v = verdict(p.a, p.b, metric.better ?? 'higher');
        const opt = (x: number | null): string => (x === null ? '-' : f(x, metric.digits + 1));
        lines.push(
          `| ${a.stem} − ${b.stem} | ${metric.label} | ${v.n} (${seedList(p.seeds)}) | ${signed(v.meanDifference, metric.digits + 1)} | ${opt(v.std)} | ${opt(v.halfWidth)} | ${verdictWords(v, a.stem, b.stem, metric.better)} |`,
        );
      }
    }
  }
  lines.push('', ...unpairedNotes.flatMap((n) => [n, '']));
  return lines;
};

/**
 * Where the JSON twin of a report goes: `report.md` (any case) -> `report.json`; any other name gets
 * `.json` appended (`r.txt` -> `r.txt.json`), so the twin never overwrites the report.
 */
export const jsonTwin = (out: string): string => (/\.md$/i.test(out) ? out.replace(/\.md$/i, '.json') : `${out}.json`);

/**
 * The runs a `--runs` name stands for: the run itself when its directory exists, else the seed sweep
 * `<name>-s<seed>` (every such run under the root with metrics), in seed order.
 */
export const expandRunNames = async (root: string, names: readonly string[]): Promise<string[]> => {
  const out: string[] = [];
  for (const name of names) {
    if (existsSync(runDir(root, name).path)) {
      out.push(name);
      continue;
    }
    const entries = existsSync(root) ? await readdir(root) : [];
    const sweep = entries
      .map((e) => ({ e, p: parseRunName(e) }))
      .filter(({ e, p }) => p.stem === name && p.seed !== undefined && existsSync(runDir(root, e).metrics))
      .sort((x, y) => (x.p.seed as number) - (y.p.seed as number))
      .map(({ e }) => e);
    out.push(...(sweep.length > 0 ? sweep : [name]));
  }
  const twice = out.filter((n, i) => out.indexOf(n) !== i);
  if (twice.length > 0) throw new UsageError(`report: the run '${twice[0]}' is named twice in --runs; name each run once.`);
  return out;
};

/** The seed in a run's config.json (for runs whose name has no -s<seed> suffix); undefined if unreadable. */
const configSeed = async (root: string, name: string): Promise<number | undefined> => {
  try {
    const c = JSON.parse(await readFile(runDir(root, name).config, 'utf8')) as { train?: { seed?: unknown } };
    return typeof c.train?.seed === 'number' ? c.train.seed : undefined;
  } catch {
    return undefined;
  }
};

export const reportCommand = async (root: string, names: readonly string[], out: string, title = 'typed-flows report', o: { readonly force?: boolean } = {}): Promise<string> => {
  if (names.length === 0) throw new UsageError('report: name at least one evaluated run (--runs a b ...).');
  checkOutput({ command: 'report', option: '--output', path: out, kind: 'report', twin: jsonTwin(out), ...(o.force === true ? { force: true } : {}) });
  const runs: ReportInput[] = [];
  for (const name of await expandRunNames(root, names)) {
    const dir = runDir(root, name);
    const metrics = (await readJson(dir.metrics, `Metrics of run '${name}' (run \`typed-flows eval --name ${name}\` first)`)) as EvalResult;
    const seed = parseRunName(name).seed === undefined ? await configSeed(root, name) : undefined;
    runs.push({ metrics: { ...metrics, name }, ...(seed === undefined ? {} : { seed }) });
  }
  const text = renderReport(title, out, runs);
  await writeFile(out, `${text.trimEnd()}\n\n${REPORT_MARKER}\n`);
  await writeJson(jsonTwin(out), runs.map((r) => r.metrics));
  return text;
};
