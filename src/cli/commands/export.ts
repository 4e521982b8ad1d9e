/** `typed-flows export`: a run's model file (parameters, spec, run config; no optimizer state). */
import { encodeCaflowModel } from '../../caflow/checkpoint.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import { runDir } from '../run-dir.js';
import { loadRun } from './load-run.js';

export interface ExportResult {
  readonly task: string;
  readonly step: number;
  readonly bytes: number;
}

export const exportCommand = async (root: string, name: string, output: string): Promise<ExportResult> => {
  const run = await loadRun(runDir(root, name));
  const bytes = await encodeCaflowModel({ model: run.model, params: run.params, step: run.step, config: run.config });
  await writeCheckpointFile(output, bytes);
  return { task: run.config.task, step: run.step, bytes: bytes.byteLength };
};
