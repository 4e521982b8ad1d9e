/**
 * `typed-flows export`: a run's model in one of the export formats: `safetensors` (the default: the
 * model file with parameters, spec and run config, no optimizer state) or `onnx` (one of CAFLOW's
 * graphs, src/cli/commands/export-onnx.ts).
 */
import { encodeCaflowModel } from '../../caflow/checkpoint.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../io.js';
import { runDir } from '../run-dir.js';
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

export const exportFormats = ['safetensors', 'onnx'] as const;
export type ExportFormat = (typeof exportFormats)[number];

export interface ExportOptions {
  readonly format?: ExportFormat;
  /** ONNX only: which graph (default 'sample'). */
  readonly direction?: CaflowDirection;
  /** ONNX sample graph only: samples per condition (default: the run's eval.samples). */
  readonly k?: number;
}

/** The same file, following symbolic links where the files exist. */
const sameFile = (a: string, b: string): boolean => {
  const real = (p: string): string => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
};

export const exportCommand = async (root: string, name: string, output: string, o: ExportOptions = {}): Promise<ExportResult> => {
  const format = o.format ?? 'safetensors';
  if (format !== 'onnx' && (o.direction !== undefined || o.k !== undefined))
    throw new UsageError(`export: --direction and --k apply to --format onnx only (the ${format} export writes the whole model).`);
  const dir = runDir(root, name);
  if (sameFile(output, dir.checkpoint)) {
    throw new UsageError(
      `export: '${output}' is the run's own checkpoint; writing the model there would drop its optimizer state and --resume could no longer continue the run. Choose another --output.`,
    );
  }
  const run = await loadRun(dir);
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
