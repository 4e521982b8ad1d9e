/** `typed-flows export`: a run's model file (parameters, spec, run config; no optimizer state). */
import { encodeCaflowModel } from '../../caflow/checkpoint.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../io.js';
import { runDir } from '../run-dir.js';
import { loadRun } from './load-run.js';

export interface ExportResult {
  readonly task: string;
  readonly step: number;
  readonly bytes: number;
}

/** The same file, following symbolic links where the files exist. */
const sameFile = (a: string, b: string): boolean => {
  const real = (p: string): string => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
};

export const exportCommand = async (root: string, name: string, output: string): Promise<ExportResult> => {
  const dir = runDir(root, name);
  if (sameFile(output, dir.checkpoint)) {
    throw new UsageError(
      `export: '${output}' is the run's own checkpoint; writing the model there would drop its optimizer state and --resume could no longer continue the run. Choose another --output.`,
    );
  }
  const run = await loadRun(dir);
  const bytes = await encodeCaflowModel({ model: run.model, params: run.params, step: run.step, config: run.config });
  await writeCheckpointFile(output, bytes);
  return { task: run.config.task, step: run.step, bytes: bytes.byteLength };
};
