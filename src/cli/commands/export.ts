/**
 * `typed-flows export`: a run's model in one of the export formats: `safetensors` (the default: the
 * model file with parameters, spec and run config, no optimizer state) or `onnx` (one of CAFLOW's
 * graphs, src/cli/commands/export-onnx.ts).
 */
import { encodeCaflowModel } from '../../caflow/checkpoint.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import { UsageError } from '../io.js';
import { runDir } from '../run-dir.js';
import { checkOutput } from '../output-rule.js';
import { silent, type Progress } from '../progress.js';
import { loadRun } from './load-run.js';
import type { CaflowDirection } from '../../caflow/onnx.js';
import { exportOnnx } from './export-onnx.js';

export interface ExportResult {
  readonly task: string;
  readonly step: number;
  readonly bytes: number;
  /** What was written, e.g. 'model file' or 'ONNX sample graph (k = 8)'. */
  readonly what: string;
}

import type { ExportFormat } from '../export-choices.js';
export { exportFormats, type ExportFormat } from '../export-choices.js';

export interface ExportOptions {
  readonly format?: ExportFormat;
  /** ONNX only: which graph (default 'sample'). */
  readonly direction?: CaflowDirection;
  /** ONNX sample graph only: samples per condition (default: the run's eval.samples). */
  readonly k?: number;
  /** Replace an existing file that is not an earlier export of the same format (never a run's files). */
  readonly force?: boolean;
  /** Stages of the work as they start (default: silent). */
  readonly progress?: Progress;
}

export const exportCommand = async (root: string, name: string, output: string, o: ExportOptions = {}): Promise<ExportResult> => {
  const format = o.format ?? 'safetensors';
  if (format !== 'onnx' && (o.direction !== undefined || o.k !== undefined))
    throw new UsageError(`export: --direction and --k apply to --format onnx only (the ${format} export writes the whole model).`);
  const dir = runDir(root, name);
  checkOutput({ command: 'export', option: '--output', path: output, kind: format === 'onnx' ? 'ONNX graph' : 'model file', source: dir.path, ...(o.force === true ? { force: true } : {}) });
  const say = o.progress ?? silent;
  say(`loading run '${name}'`);
  const run = await loadRun(dir);
  say(`model at step ${run.step}; writing ${format === 'onnx' ? `its ONNX ${o.direction ?? 'sample'} graph` : 'its model file'}`);
  switch (format) {
    case 'onnx':
      return exportOnnx(run, output, o);
    case 'safetensors': {
      const bytes = await encodeCaflowModel({ model: run.model, params: run.params, step: run.step, config: run.config });
      await writeCheckpointFile(output, bytes);
      return { task: run.config.task, step: run.step, bytes: bytes.byteLength, what: 'model' };
    }
  }
};
