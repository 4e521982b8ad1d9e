/**
 * Reading what `typed-flows fit` wrote, for the commands that use a fitted model (logprob, sample
 * --model, c2st's inputs): the model file, and rows (with a conditional model's context) checked
 * against it. Bad paths and mismatched files are usage errors that say what to pass.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { decodeDistributionModel, type DistributionModel } from '../distributions/model.js';
import { distributionSignature } from '../distributions/spec.js';
import type { Context } from '../dsl/definition.js';
import { formatShape, sizeOf } from '../dsl/shape.js';
import { UsageError } from './io.js';
import { readPointsFile, type Points } from './points.js';

/** The decoded model (the caller disposes its params). */
export const readModelFile = async (path: string, command: string): Promise<DistributionModel> => {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' || code === 'EISDIR'
        ? `${command}: the model file '${path}' ${code === 'ENOENT' ? 'does not exist' : 'is a directory'}; pass the model.safetensors that typed-flows fit wrote (e.g. fit-output/model.safetensors).`
        : `${command}: cannot read the model file '${path}': ${(e as Error).message}`,
    );
  }
  return decodeDistributionModel(new Uint8Array(bytes));
};

/** The model's event width (vector models only) and its one conditioning input, if any. */
export const modelInputs = (m: DistributionModel, command: string): { width: number; contextName: string | undefined; contextWidth: number | undefined } => {
  const sig = distributionSignature(m.dist);
  const event = sig.event[0] as readonly number[];
  if (sig.event.length !== 1 || event.length !== 1) throw new UsageError(`${command}: the model's events are ${sig.event.map(formatShape).join(', ')}; rows of numbers fit vector models ([D]) only.`);
  const names = Object.keys(sig.cond);
  if (names.length > 1) throw new UsageError(`${command}: the model takes ${names.length} conditioning inputs (${names.join(', ')}); the command line feeds one.`);
  const name = names[0];
  return { width: event[0] as number, contextName: name, contextWidth: name === undefined ? undefined : sizeOf(sig.cond[name] as readonly number[]) };
};

/** Context rows for a conditional model (the context file's rows as the model's one conditioning input). */
export const readContext = async (
  file: string | undefined,
  inputs: { contextName: string | undefined; contextWidth: number | undefined },
  rows: number | undefined,
  command: string,
): Promise<{ points: Points; ctx: Context } | undefined> => {
  if (inputs.contextName === undefined) {
    if (file !== undefined) throw new UsageError(`${command}: the model is not conditional; drop --context.`);
    return undefined;
  }
  if (file === undefined) throw new UsageError(`${command}: the model is conditional (on '${inputs.contextName}', ${inputs.contextWidth} numbers per row); pass its rows with --context <file>.`);
  const points = await readPointsFile(file);
  if (points.width !== inputs.contextWidth) throw new UsageError(`${command}: '${file}' has ${points.width} numbers per row; the model's context '${inputs.contextName}' takes ${inputs.contextWidth}.`);
  if (rows !== undefined && points.rows !== rows) throw new UsageError(`${command}: '${file}' has ${points.rows} rows but the data has ${rows}; row i of each must belong together.`);
  return { points, ctx: { [inputs.contextName]: tf.tensor2d(points.values, [points.rows, points.width]) } };
};
