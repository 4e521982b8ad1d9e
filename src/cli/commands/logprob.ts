/**
 * `typed-flows logprob --model <model.safetensors> --data <file> [--context <file>] [--json] [--per-row <file>]`:
 * the mean negative log-likelihood per row of a fitted model, in nats, with its standard error
 * (the sample standard deviation of -log p over the rows divided by sqrt(rows)); `--per-row` writes
 * each row's log p (one number a line, with a header) to a CSV file.
 */
import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { nllWithError } from '../../distributions/em.js';
import { logProbRows } from '../../distributions/fit.js';
import { disposeParams } from '../../dsl/params.js';
import { UsageError } from '../io.js';
import { modelInputs, readContext, readModelFile } from '../model-file.js';
import { readPointsFile } from '../points.js';
import { checkOutput, TABLE_MARKER } from '../output-rule.js';

export interface LogprobOptions {
  readonly model: string;
  readonly data: string;
  readonly context?: string;
  readonly perRow?: string;
  /** Replace a file that is not an earlier table of typed-flows' (the output rule). */
  readonly force?: boolean;
}

export interface LogprobResult {
  readonly nll: number;
  readonly standardError: number;
  readonly rows: number;
}

export const logprobCommand = async (o: LogprobOptions): Promise<LogprobResult> => {
  if (o.perRow !== undefined) checkOutput({ command: 'logprob', option: '--per-row', path: o.perRow, kind: 'table', ...(o.force === true ? { force: true } : {}) });
  const m = await readModelFile(o.model, 'logprob');
  try {
    const inputs = modelInputs(m, 'logprob');
    const points = await readPointsFile(o.data);
    if (points.width !== inputs.width) throw new UsageError(`logprob: '${o.data}' has ${points.width} numbers per row; the model takes ${inputs.width}.`);
    const context = await readContext(o.context, inputs, points.rows, 'logprob');
    const x = tf.tensor2d(points.values, [points.rows, points.width]);
    try {
      const lp = logProbRows(m.dist, m.params, [x], context?.ctx ?? {});
      if (o.perRow !== undefined) await writeFile(o.perRow, `${TABLE_MARKER} logprob --per-row\nlogp\n${Array.from(lp, (v) => String(v)).join('\n')}\n`);
      return nllWithError(lp);
    } finally {
      tf.dispose([x, ...Object.values(context?.ctx ?? {})]);
    }
  } finally {
    disposeParams(m.params);
  }
};
