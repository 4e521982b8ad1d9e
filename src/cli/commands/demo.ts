/**
 * `typed-flows demo`, the README's main job: trains CAFLOW and a Dual-Glow+ of the same size on
 * bundled MNIST super-resolution (x4), one process each so both CPU cores work, evaluates both against
 * the bicubic baseline, and writes runs/demo/report.md, metrics.json and sample grids. With --seeds N
 * it does so for N seeds (runs demo-caflow-s<seed>, demo-dualglow-s<seed>; the two models of one seed
 * train at a time), and the report gives mean ± std over seeds and the paired differences.
 */
import { spawn } from 'node:child_process';
import { rm, mkdir } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caflowSpec } from '../../caflow/model.js';
import { presets, type RunConfig } from '../../experiments/config.js';
import { parameterCount } from '../../interpreters/summary.js';
import { ChildExitError } from '../errors.js';
import { UsageError } from '../io.js';
import { checkOutput } from '../output-rule.js';
import { modelConfigOf } from '../model-config.js';
import { runDir, readJson, writeJson } from '../run-dir.js';
import type { EvalResult } from './eval.js';
import { renderReport } from './report.js';
import { seedRunName, sweepSeeds } from '../../experiments/seeds.js';
import type { TrainSummary } from './train.js';
import { writeFile } from 'node:fs/promises';

// The package's bin/typed-flows.js: three folders up from src/cli/commands (run through tsx), four from
// dist/src/cli/commands (the compiled CLI).
/** The CLI the demo runs its steps with, in child processes. */
export const demoCli = ['../../../bin/typed-flows.js', '../../../../bin/typed-flows.js'].map((u) => fileURLToPath(new URL(u, import.meta.url))).find((p) => existsSync(p)) ?? fileURLToPath(new URL('../../../bin/typed-flows.js', import.meta.url));

/** Runs the CLI in a child process, prefixing its output lines; rejects on a non-zero exit. */
const child = (args: readonly string[], label: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [demoCli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const relay = (stream: NodeJS.ReadableStream, out: NodeJS.WritableStream): void => {
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') out.write(`[${label}] ${line}\n`);
      });
    };
    relay(p.stdout, process.stdout);
    relay(p.stderr, process.stderr);
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new ChildExitError(`${label}: \`typed-flows ${args.join(' ')}\` exited with ${code} (its message is above)`, code))));
  });

export interface DemoOptions {
  readonly out: string;
  readonly steps?: number;
  readonly limit?: number;
  /** Seeds per model (default 1: runs demo-caflow and demo-dualglow; more: demo-caflow-s0, ...). */
  readonly seeds?: number;
  readonly backend: string;
}

/** Trainable parameters of the model a config builds. */
export const modelSize = (config: RunConfig): number => {
  const m = caflowSpec(modelConfigOf(config));
  return [m.encoderY, m.encoderW, ...m.priors].reduce((n, f) => n + parameterCount(f), 0);
};

/**
 * Dual-Glow+ "of the same size": its G_i are single blocks, so at CAFLOW's depth it has far fewer
 * parameters; give it the conditional depth whose parameter count is closest to CAFLOW's.
 */
export const sameSizeDualGlow = (caflow: RunConfig, name: string): RunConfig => {
  const target = modelSize(caflow);
  const candidates = Array.from({ length: 4 * Math.max(1, caflow.model.conditionalDepth) }, (_, i) => i + 1).map((depth) => {
    const config: RunConfig = { ...caflow, name, model: { ...caflow.model, variant: 'dualglow', conditionalDepth: depth } };
    return { config, gap: Math.abs(modelSize(config) - target) };
  });
  return candidates.reduce((a, b) => (b.gap < a.gap ? b : a)).config;
};

export const demoCommand = async (o: DemoOptions): Promise<void> => {
  const base = presets['mnist-sr'] as RunConfig;
  const caflow: RunConfig = {
    ...base,
    name: 'demo-caflow',
    data: base.data.source === 'mnist' && o.limit !== undefined ? { ...base.data, limit: o.limit } : base.data,
    train: { ...base.train, steps: o.steps ?? base.train.steps },
  };
  const models = [caflow, sameSizeDualGlow(caflow, 'demo-dualglow')];
  const seeds = o.seeds ?? 1;
  // One seed: the runs keep their names; several: <name>-s<seed>, seed = the preset's + 0, 1, ...
  const bySeed: RunConfig[][] =
    seeds === 1
      ? [models]
      : sweepSeeds(base.train.seed, seeds).map((seed) => models.map((m) => ({ ...m, name: seedRunName(m.name, seed), train: { ...m.train, seed } })));
  const runs = bySeed.flat();
  const demoDir = join(o.out, 'demo');
  checkOutput({ command: 'demo', option: '--out', path: demoDir, kind: 'demo folder' });
  for (const r of runs) {
    // The demo retrains its own runs from scratch; a run of the same name it did not make is the user's.
    const own = runDir(o.out, r.name);
    checkOutput({ command: 'demo', option: '--out', path: own.path, kind: 'run' });
    if (existsSync(own.path) && readdirSync(own.path).length > 0 && !existsSync(join(demoDir, `${r.name}.config.json`))) {
      throw new UsageError(`demo: '${own.path}' holds a run the demo did not make; the demo retrains its runs from scratch and would delete it. Nothing was changed. Pass another --out.`);
    }
  }
  await mkdir(demoDir, { recursive: true });
  for (const r of runs) {
    await rm(runDir(o.out, r.name).path, { recursive: true, force: true });
    await writeJson(join(demoDir, `${r.name}.config.json`), r);
  }
  const sizes = models.map(modelSize);
  console.log(
    `demo: training CAFLOW (${sizes[0]?.toLocaleString('en-US')} parameters) and a Dual-Glow+ of the same size ` +
      `(conditional depth ${models[1]?.model.conditionalDepth}, ${sizes[1]?.toLocaleString('en-US')} parameters) on MNIST x4 super-resolution, ` +
      `${caflow.train.steps} steps each${seeds === 1 ? '' : `, ${seeds} seeds each`}, one process per model`,
  );
  const common = ['--backend', o.backend, '--out', o.out];
  // Two processes at a time (one per model), one seed after another.
  for (const pair of bySeed) await Promise.all(pair.map((r) => child(['train', '--config', join(demoDir, `${r.name}.config.json`), ...common], r.name)));
  console.log(`demo: evaluating ${seeds === 1 ? 'both models' : `all ${runs.length} runs`} on the held-out digits`);
  for (const pair of bySeed) await Promise.all(pair.map((r) => child(['eval', '--name', r.name, ...common], r.name)));

  const inputs = await Promise.all(
    runs.map(async (r) => {
      const dir = runDir(o.out, r.name);
      const metrics = (await readJson(dir.metrics, 'Metrics')) as EvalResult;
      const summary = (await readJson(dir.summary, 'Training summary')) as TrainSummary;
      return { metrics, trainSeconds: summary.seconds, steps: summary.steps, parameters: modelSize(r), seed: r.train.seed };
    }),
  );
  const reportFile = join(demoDir, 'report.md');
  const commands = [
    '## How this was made',
    '',
    '```sh',
    `npx typed-flows demo${o.steps === undefined ? '' : ` --steps ${o.steps}`}${o.limit === undefined ? '' : ` --limit ${o.limit}`}${seeds === 1 ? '' : ` --seeds ${seeds}`}`,
    ...runs.map((r) => `# = typed-flows train --config ${join(demoDir, `${r.name}.config.json`)} && typed-flows eval --name ${r.name}`),
    '```',
  ];
  const paper =
    `The CAFLOW paper reports CAFLOW ahead of a Dual-Glow+ of equal size in conditional NLL and sample quality (FFHQ 64×64, up to 200k steps); ` +
    `this demo trains ${caflow.train.steps} steps on 32×32 digits, so its outcome need not match (docs/experiments.md has longer runs).`;
  await writeFile(reportFile, renderReport('typed-flows demo: CAFLOW vs Dual-Glow+ on MNIST super-resolution x4', reportFile, inputs, commands, [paper]));
  await writeJson(join(demoDir, 'metrics.json'), inputs);
  console.log(`demo: wrote ${reportFile}, ${join(demoDir, 'metrics.json')} and the sample grids`);
  for (const { metrics: m } of inputs) {
    console.log(`  ${(seeds === 1 ? m.variant : m.name).padEnd(8)} NLL ${m.bitsPerDim.toFixed(3)} bits/dim (bound), RMSE ${m.best.rmse.toFixed(2)}, PSNR ${m.best.psnr.toFixed(2)} dB, SSIM ${m.best.ssim.toFixed(3)}, diversity ${m.diversity.toFixed(2)}`);
  }
};
