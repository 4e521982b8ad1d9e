/** `typed-flows export --format onnx`: one of a run's CAFLOW graphs as an ONNX model (src/caflow/onnx.ts). */
import { caflowToOnnx, type CaflowDirection } from '../../caflow/onnx.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import type { LoadedRun } from './load-run.js';
import { checkSample } from '../limits.js';
import type { ExportOptions, ExportResult } from './export.js';

const describe = (direction: CaflowDirection, k: number): string =>
  direction === 'sample' ? `ONNX sample graph (k = ${k})` : `ONNX ${direction} graph`;

export const exportOnnx = async (run: LoadedRun, output: string, o: ExportOptions): Promise<ExportResult> => {
  const direction = o.direction ?? 'sample';
  const k = o.k ?? run.config.eval.samples;
  // The graph for k samples per condition is what sample draws for one condition: the same estimate refuses it.
  if (direction === 'sample') checkSample(run.model, 1, k, 'export --format onnx --direction sample', undefined, 'Ask for fewer samples per condition (--k).');
  const bytes = caflowToOnnx(run.model, run.params, { direction, k });
  await writeCheckpointFile(output, bytes);
  return { task: run.config.task, step: run.step, bytes: bytes.byteLength, what: describe(direction, k) };
};
