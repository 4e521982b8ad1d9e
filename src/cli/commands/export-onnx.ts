/** `typed-flows export --format onnx`: one of a run's CAFLOW graphs as an ONNX model (src/caflow/onnx.ts). */
import { caflowToOnnx, type CaflowDirection } from '../../caflow/onnx.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import type { LoadedRun } from './load-run.js';
import type { ExportOptions, ExportResult } from './export.js';

const describe = (direction: CaflowDirection, k: number): string =>
  direction === 'sample' ? `ONNX sample graph (k = ${k})` : `ONNX ${direction} graph`;

export const exportOnnx = async (run: LoadedRun, output: string, o: ExportOptions): Promise<ExportResult> => {
  const direction = o.direction ?? 'sample';
  const k = o.k ?? run.config.eval.samples;
  const bytes = caflowToOnnx(run.model, run.params, { direction, k });
  await writeCheckpointFile(output, bytes);
  return { task: run.config.task, step: run.step, bytes: bytes.byteLength, what: describe(direction, k) };
};
