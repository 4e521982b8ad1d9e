/**
 * `typed-flows export --format pytorch`: a folder from which a run trains and evaluates in PyTorch:
 * model.py (the model as torch code), checkpoint.safetensors (the run's checkpoint, Adam state
 * included), config.json (the run config), data.safetensors (the run's prepared training and
 * validation pairs, 8-bit) and train.py (DistributedDataParallel training under torchrun).
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { caflowToPyTorch } from '../../caflow/pytorch.js';
import { trainScript } from '../../caflow/train-script.js';
import type { PairedData } from '../../experiments/paired-data.js';
import { encodeSafetensors } from '../../io/safetensors.js';
import { loadRunData, type RunData } from '../run-data.js';
import type { CaflowSpec } from '../../caflow/model.js';
import type { RunConfig } from '../../experiments/config.js';
import { runDir } from '../run-dir.js';
import { checkOutput } from '../output-rule.js';
import { cliHint, torchrunCommand } from '../hints.js';
import { silent, type Progress } from '../progress.js';
import { loadRun } from './load-run.js';

export interface PyTorchExportResult {
  readonly task: string;
  readonly step: number;
  readonly files: readonly string[];
  readonly trainPairs: number;
  readonly valPairs: number;
}

const nhwc = (d: PairedData, which: 'w' | 'y'): readonly number[] => {
  const [c, h, w] = which === 'w' ? d.targetShape : d.conditionShape;
  return [d.count, h, w, c];
};

const readme = (name: string, step: number): string => `# ${name} in PyTorch

Exported by \`typed-flows export --format pytorch\` at step ${step}. Needs only Python 3 and torch.

| file | what |
| --- | --- |
| model.py | the model as torch code (\`Caflow\`: log_likelihood, loss, sample, from_latents) |
| checkpoint.safetensors | the run's checkpoint: weights, Adam state, step, loss history |
| config.json | the run config |
| data.safetensors | the run's training and validation pairs (8-bit, [N,H,W,C]) |
| train.py | training with DistributedDataParallel |

    ${torchrunCommand('--steps', String(step + 1000))}
    ${cliHint(['import', '--checkpoint', 'checkpoint.safetensors', '--name', `${name}-torch`])}
    ${cliHint(['eval', '--name', `${name}-torch`])}

(\`--redirects 1 --tee 1\`: Debian's torch 1.13 under Python 3.11 needs them; they work with every torchrun.)
`;

/** What a PyTorch folder is written from: the model, the run config and the run's prepared pairs. */
export interface PyTorchFolderInput {
  readonly model: CaflowSpec;
  readonly config: RunConfig;
  readonly data: RunData;
}

/** model.py, train.py and config.json of a run (cheap: written every time). */
export const writePyTorchCode = async (folder: string, { model, config }: Omit<PyTorchFolderInput, 'data'>): Promise<void> => {
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'model.py'), caflowToPyTorch(model));
  await writeFile(join(folder, 'train.py'), trainScript);
  await writeFile(join(folder, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
};

/** data.safetensors: the run's training and validation pairs, 8-bit [N,H,W,C]. */
export const writePyTorchData = async (folder: string, { train, val }: RunData): Promise<void> => {
  await mkdir(folder, { recursive: true });
  await writeFile(
    join(folder, 'data.safetensors'),
    encodeSafetensors([
      ['train.w', { dtype: 'U8', shape: nhwc(train, 'w'), data: train.w }],
      ['train.y', { dtype: 'U8', shape: nhwc(train, 'y'), data: train.y }],
      ['val.w', { dtype: 'U8', shape: nhwc(val, 'w'), data: val.w }],
      ['val.y', { dtype: 'U8', shape: nhwc(val, 'y'), data: val.y }],
    ]),
  );
};

export const exportPyTorchCommand = async (root: string, name: string, output: string, force = false, say: Progress = silent): Promise<PyTorchExportResult> => {
  const dir = runDir(root, name);
  checkOutput({ command: 'export', option: '--output', path: output, kind: 'PyTorch export', ...(force ? { force: true } : {}) });
  say(`loading run '${name}' and its data`);
  const run = await loadRun(dir);
  const data = await loadRunData(run.config);
  const { train, val } = data;
  say(`model at step ${run.step}; writing model.py, train.py, the checkpoint and ${train.count + val.count} pairs`);
  const files = ['model.py', 'train.py', 'config.json', 'checkpoint.safetensors', 'data.safetensors', 'README.md'];
  await writePyTorchCode(output, { model: run.model, config: run.config });
  await copyFile(dir.checkpoint, join(output, 'checkpoint.safetensors'));
  await writePyTorchData(output, data);
  await writeFile(join(output, 'README.md'), readme(name, run.step));
  return { task: run.config.task, step: run.step, files, trainPairs: train.count, valPairs: val.count };
};
