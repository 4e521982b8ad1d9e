/**
 * `typed-flows import`: a checkpoint trained elsewhere (the PyTorch export's train.py) becomes a run,
 * so eval, sample, export and train --resume work on it. The checkpoint is checked against the model
 * its config describes: every missing, extra or mis-shaped tensor, spec difference or non-finite value
 * is named.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decodeCaflowCheckpoint } from '../../caflow/checkpoint.js';
import { caflowSpec } from '../../caflow/model.js';
import { disposeParams } from '../../dsl/params.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import { UsageError } from '../io.js';
import { modelConfigOf } from '../model-config.js';
import { readRunConfig, runDir, writeJson } from '../run-dir.js';
import { checkOutput } from '../output-rule.js';
import { silent, type Progress } from '../progress.js';

export interface ImportResult {
  readonly name: string;
  readonly step: number;
  readonly losses: number;
}

export const importCommand = async (root: string, name: string, checkpoint: string, configFile?: string, say: Progress = silent): Promise<ImportResult> => {
  if (!existsSync(checkpoint)) throw new UsageError(`import: there is no checkpoint at '${checkpoint}'.`);
  if (statSync(checkpoint).isDirectory()) {
    throw new UsageError(`import: --checkpoint '${checkpoint}' is a directory; pass the checkpoint file in it (e.g. ${join(checkpoint, 'checkpoint.safetensors')}).`);
  }
  const dir = runDir(root, name);
  checkOutput({ command: 'import', option: '--out/--name', path: dir.path, kind: 'run' });
  const configPath = configFile ?? join(dirname(checkpoint), 'config.json');
  const config = { ...(await readRunConfig(configPath)), name };
  if (existsSync(dir.checkpoint) || existsSync(dir.config)) throw new UsageError(`import: '${dir.path}' already holds a run; choose another --name.`);
  const model = caflowSpec(modelConfigOf(config));
  say(`reading '${checkpoint}'`);
  const bytes = new Uint8Array(await readFile(checkpoint));
  say(`checking its ${(bytes.byteLength / 1e6).toFixed(1)} MB tensor by tensor against the model of '${configPath}'`);
  // Decoded in full (Adam state included), so a file that could not resume training is refused now.
  const ckpt = decodeCaflowCheckpoint(bytes, model);
  disposeParams([ckpt.params, ckpt.adam.m, ckpt.adam.v]);
  say(`writing the run '${dir.path}'`);
  await writeJson(dir.config, config);
  await writeCheckpointFile(dir.checkpoint, bytes);
  await writeJson(dir.history, ckpt.history ?? []);
  return { name, step: ckpt.step, losses: ckpt.history?.length ?? 0 };
};
