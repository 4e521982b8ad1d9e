/**
 * Writes the playground's bundled assets from the project's own runs (docs/playground.md says how
 * the runs were trained):
 *   public/checkpoints/<task>.safetensors  `typed-flows export` of runs/playground-<task>
 *   public/checkpoints/index.json          what each was trained with, for how long, and its scores
 *   public/examples.json                   held-out digits (grey and coloured) to start from
 * Usage: npx tsx playground/scripts/make-assets.ts [--runs runs]
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../../src/backend/index.js';
import { exportCommand } from '../../src/cli/commands/export.js';
import { loadRunData } from '../../src/cli/run-data.js';
import { runDir } from '../../src/cli/run-dir.js';
import { presets } from '../../src/experiments/config.js';
import { taskNames } from '../../src/tasks/index.js';
import type { CheckpointIndex, ExampleSet, Examples } from '../src/assets.js';

const EXAMPLES_PER_SET = 12;
const publicDir = fileURLToPath(new URL('../public/', import.meta.url));
const runsRoot = process.argv.includes('--runs') ? (process.argv[process.argv.indexOf('--runs') + 1] as string) : 'runs';

const readJson = async (file: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;

const exampleSet = async (preset: string): Promise<ExampleSet> => {
  const config = presets[preset];
  if (config === undefined) throw new Error(`no preset ${preset}`);
  const { val } = await loadRunData(config);
  const [c, h, w] = val.targetShape;
  const count = Math.min(EXAMPLES_PER_SET, val.count);
  return { channels: c, size: h === w ? h : Number.NaN, count, pixels: Buffer.from(val.w.subarray(0, count * c * h * w)).toString('base64') };
};

const main = async (): Promise<void> => {
  await selectBackend({ log: () => undefined });
  await mkdir(join(publicDir, 'checkpoints'), { recursive: true });
  const index: CheckpointIndex = { models: [] };
  for (const task of taskNames) {
    const dir = runDir(runsRoot, `playground-${task}`);
    if (!existsSync(dir.checkpoint)) {
      console.error(`skipping ${task}: no run at ${dir.path} (train it as docs/playground.md says)`);
      continue;
    }
    const file = join(publicDir, 'checkpoints', `${task}.safetensors`);
    const r = await exportCommand(runsRoot, `playground-${task}`, file);
    const summary = existsSync(dir.summary) ? await readJson(dir.summary) : {};
    const metrics = existsSync(dir.metrics) ? await readJson(dir.metrics) : {};
    const best = (metrics['best'] ?? {}) as Record<string, number>;
    const nll = (metrics['nll'] ?? {}) as Record<string, number>;
    index.models.push({
      task,
      file: `checkpoints/${task}.safetensors`,
      steps: r.step,
      trainMinutes: typeof summary['seconds'] === 'number' ? Number(((summary['seconds'] as number) / 60).toFixed(1)) : null,
      bitsPerDim: typeof metrics['bitsPerDim'] === 'number' ? Number((metrics['bitsPerDim'] as number).toFixed(3)) : null,
      midBinBitsPerDim: typeof nll['midBin'] === 'number' ? Number((nll['midBin'] as number).toFixed(3)) : null,
      ssim: typeof best['ssim'] === 'number' ? Number((best['ssim'] as number).toFixed(3)) : null,
      command: `npx typed-flows train --preset mnist-${task} --name playground-${task} --steps ${r.step} && npx typed-flows export --name playground-${task} --output playground/public/checkpoints/${task}.safetensors`,
    });
    console.log(`${file}: step ${r.step}, ${(r.bytes / 1e6).toFixed(2)} MB`);
  }
  await writeFile(join(publicDir, 'checkpoints', 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  const examples: Examples = { grey: await exampleSet('mnist-sr'), colour: await exampleSet('mnist-colorize') };
  await writeFile(join(publicDir, 'examples.json'), `${JSON.stringify(examples)}\n`);
  console.log(`${join(publicDir, 'examples.json')}: ${examples.grey.count} grey and ${examples.colour.count} coloured held-out digits`);
};

await main();
