/**
 * `typed-flows export --model <model.safetensors> --format onnx`: a distribution fitted by
 * `typed-flows fit` (or written with encodeDistributionModel) as one ONNX graph
 * (src/distributions/onnx.ts): `--direction logprob` (x -> logp) or `sample` (noise -> x, logp).
 */
import { readFile } from 'node:fs/promises';
import { decodeDistributionModel } from '../../distributions/model.js';
import { distributionToOnnx, type DistributionGraph } from '../../distributions/onnx.js';
import { disposeParams } from '../../dsl/params.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import { UsageError } from '../io.js';
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
  let bytes: Buffer;
  try {
    bytes = await readFile(model);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Said here: the generic file-error message would read a missing input as an unwritable output.
    throw new UsageError(
      code === 'ENOENT' || code === 'EISDIR'
        ? `export: the model file '${model}' ${code === 'ENOENT' ? 'does not exist' : 'is a directory'}; pass the model.safetensors that typed-flows fit wrote (e.g. fit-output/model.safetensors).`
        : `export: cannot read the model file '${model}': ${(e as Error).message}`,
    );
  }
  const m = decodeDistributionModel(new Uint8Array(bytes));
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
