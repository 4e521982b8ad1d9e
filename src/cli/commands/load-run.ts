/** A trained run loaded back: its config, model, parameters and data. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { decodeCaflowModel } from '../../caflow/checkpoint.js';
import { caflowSpec, type CaflowSpec } from '../../caflow/model.js';
import type { CaflowParams } from '../../caflow/params.js';
import type { RunConfig } from '../../experiments/config.js';
import { UsageError } from '../io.js';
import { modelConfigOf } from '../model-config.js';
import { readRunConfig, type RunDir } from '../run-dir.js';

export interface LoadedRun {
  readonly config: RunConfig;
  readonly model: CaflowSpec;
  readonly params: CaflowParams;
  readonly step: number;
}

export const loadRun = async (dir: RunDir): Promise<LoadedRun> => {
  if (!existsSync(dir.path)) throw new UsageError(`There is no run at '${dir.path}'. Train one first: typed-flows train --preset mnist-sr`);
  const config = await readRunConfig(dir.config);
  if (!existsSync(dir.checkpoint)) throw new UsageError(`The run '${dir.path}' has no checkpoint yet; train it first.`);
  const model = caflowSpec(modelConfigOf(config));
  const ckpt = decodeCaflowModel(new Uint8Array(await readFile(dir.checkpoint)), model);
  return { config, model, params: ckpt.params, step: ckpt.step };
};
