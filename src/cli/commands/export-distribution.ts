/**
 * `typed-flows export --model <model.safetensors> --format onnx|pytorch`: a distribution fitted by
 * `typed-flows fit` (or written with encodeDistributionModel) as one ONNX graph
 * (src/distributions/onnx.ts): `--direction logprob` (x -> logp) or `sample` (noise -> x, logp); or as
 * a folder of PyTorch code (src/distributions/pytorch.ts): model.py and its weights, model.safetensors
 * (the model file itself: its tensors are the module's state_dict keys).
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { distributionToOnnx, type DistributionGraph } from '../../distributions/onnx.js';
import { distributionToPyTorch } from '../../distributions/pytorch.js';
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

/** The files `export --model ... --format pytorch` writes into its folder. */
export const PYTORCH_DISTRIBUTION_FILES = ['model.py', 'model.safetensors'] as const;

/** `export --model <file> --format pytorch --output <dir>`: model.py (the Distribution module) and model.safetensors (its weights). */
export const exportDistributionPyTorchCommand = async (model: string, output: string, force = false): Promise<ExportResult> => {
  checkOutput({ command: 'export', option: '--output', path: output, kind: 'PyTorch distribution', source: dirname(model), ...(force ? { force: true } : {}) });
  const m = await readModelFile(model, 'export');
  try {
    const code = distributionToPyTorch(m.dist);
    await mkdir(output, { recursive: true });
    await writeFile(join(output, 'model.py'), code);
    await copyFile(model, join(output, 'model.safetensors'));
    return { task: 'fitted distribution', step: m.step, bytes: Buffer.byteLength(code), what: `PyTorch code (${PYTORCH_DISTRIBUTION_FILES.join(', ')})` };
  } finally {
    disposeParams(m.params);
  }
};

/** What `export --model` writes: an ONNX graph of one direction, or PyTorch code. */
export type ModelExport = { readonly format: 'onnx'; readonly direction: DistributionDirection } | { readonly format: 'pytorch' };

/** Checks the options of `export --model` before anything is read. */
export const checkModelExport = (o: { readonly format: string; readonly direction?: string; readonly k?: number; readonly model: string; readonly output: string }): ModelExport => {
  if (o.format !== 'onnx' && o.format !== 'pytorch')
    throw new UsageError(`export: --model exports a fitted distribution as ONNX (--format onnx) or as PyTorch code (--format pytorch); the model file is already its safetensors export.`);
  if (o.k !== undefined) throw new UsageError('export: --k applies to the CAFLOW sample graph (--name) only; a distribution\'s graphs take any number of rows.');
  if (realPath(o.output) === realPath(o.model)) throw new UsageError(`export: --output '${o.output}' is the model file itself; choose another path (e.g. ${o.format === 'onnx' ? 'model.onnx' : 'a new folder'}).`);
  if (o.format === 'pytorch') {
    if (o.direction !== undefined) throw new UsageError('export: --direction applies to --format onnx only (the PyTorch code has log_prob and sample both).');
    return { format: 'pytorch' };
  }
  const direction = o.direction ?? 'sample';
  if (!isDistributionDirection(direction))
    throw new UsageError(`export: with --model, --direction is ${distributionDirections.join(' or ')} (got '${direction}'; forward, inverse and likelihood are CAFLOW graphs, for --name).`);
  return { format: 'onnx', direction };
};
