/**
 * `typed-flows export --model <model.safetensors> --format onnx`: a distribution fitted by
 * `typed-flows fit` (or written with encodeDistributionModel) as one ONNX graph
 * (src/distributions/onnx.ts): `--direction logprob` (x -> logp) or `sample` (noise -> x, logp).
 */
import { resolve } from 'node:path';
import { distributionToOnnx, type DistributionGraph } from '../../distributions/onnx.js';
import { disposeParams } from '../../dsl/params.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import { UsageError } from '../io.js';
import { readModelFile } from '../model-file.js';
import type { ExportResult } from './export.js';
import { checkOutput, realPath } from '../output-rule.js';
import { dirname } from 'node:path';

import { distributionDirections, type DistributionDirection } from '../export-choices.js';
export { distributionDirections, type DistributionDirection } from '../export-choices.js';

const graphOf: { readonly [d in DistributionDirection]: DistributionGraph } = { logprob: 'logProb', sample: 'sample' };

export const isDistributionDirection = (d: string): d is DistributionDirection => (distributionDirections as readonly string[]).includes(d);

export const exportDistributionCommand = async (model: string, output: string, direction: DistributionDirection = 'sample', force = false): Promise<ExportResult> => {
  // Quick (one small flow): no progress lines.
  // The fit folder the model comes from may take new files (model.onnx beside model.safetensors).
  checkOutput({ command: 'export', option: '--output', path: output, kind: 'ONNX graph', source: dirname(model), ...(force ? { force: true } : {}) });
  const m = await readModelFile(model, 'export');
  try {
    const onnx = distributionToOnnx(m.dist, m.params, { graph: graphOf[direction] });
    await writeCheckpointFile(output, onnx);
    return { task: 'fitted distribution', step: m.step, bytes: onnx.byteLength, what: `ONNX ${direction} graph` };
  } finally {
    disposeParams(m.params);
  }
};

/** Checks the options of `export --model` before anything is read. */
export const checkModelExport = (o: { readonly format: string; readonly direction?: string; readonly k?: number; readonly model: string; readonly output: string }): DistributionDirection => {
  if (o.format !== 'onnx')
    throw new UsageError(`export: --model exports a fitted distribution as ONNX only; pass --format onnx (the model file is already its safetensors export).`);
  if (o.k !== undefined) throw new UsageError('export: --k applies to the CAFLOW sample graph (--name) only; a distribution\'s graphs take any number of rows.');
  const direction = o.direction ?? 'sample';
  if (!isDistributionDirection(direction))
    throw new UsageError(`export: with --model, --direction is ${distributionDirections.join(' or ')} (got '${direction}'; forward, inverse and likelihood are CAFLOW graphs, for --name).`);
  if (realPath(o.output) === realPath(o.model)) throw new UsageError(`export: --output '${o.output}' is the model file itself; choose another path (e.g. model.onnx).`);
  return direction;
};
