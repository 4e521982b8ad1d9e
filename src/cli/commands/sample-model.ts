/**
 * `typed-flows sample --model <model.safetensors> --count <n> --output <file.csv> [--context <file>] [--seed <n>]`:
 * n draws from a fitted model as CSV rows (a header x0, x1, …). For a conditional model each context
 * row gets n draws, written in the context file's order (rows i*n .. i*n+n-1 belong to context row i).
 */
import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { sample } from '../../distributions/interpret.js';
import { mapFlows } from '../../distributions/spec.js';
import { withHutchinsonTraces } from '../../dsl/bijectors/cnf.js';
import { disposeParams } from '../../dsl/params.js';
import { modelInputs, readContext, readModelFile } from '../model-file.js';
import { checkOutput, TABLE_MARKER } from '../output-rule.js';

export interface SampleModelOptions {
  readonly model: string;
  readonly count: number;
  readonly output: string;
  readonly context?: string;
  readonly seed: number;
  /** Replace a file that is not an earlier table of typed-flows' (the output rule). */
  readonly force?: boolean;
}

export const sampleModelCommand = async (o: SampleModelOptions): Promise<{ rows: number; width: number }> => {
  checkOutput({ command: 'sample', option: '--output', path: o.output, kind: 'table', ...(o.force === true ? { force: true } : {}) });
  const m = await readModelFile(o.model, 'sample');
  try {
    const inputs = modelInputs(m, 'sample');
    const context = await readContext(o.context, inputs, undefined, 'sample');
    const contexts = context?.points.rows ?? 1;
    const n = contexts * o.count;
    const ctx = context === undefined ? {} : tf.tidy(() => Object.fromEntries(Object.entries(context.ctx).map(([k, t]) => [k, tf.reshape(tf.tile(tf.expandDims(t, 1), [1, o.count, 1]), [n, -1])])));
    try {
      // Only the draws are written: a cnf's log-det is estimated (same draws, D times cheaper).
      const x = sample(mapFlows(m.dist, withHutchinsonTraces), m.params)(n, { seed: o.seed, ctx } as never).x;
      const values = x.dataSync();
      x.dispose();
      const w = inputs.width;
      const lines = [`${TABLE_MARKER} sample --model (${n} draws)`, Array.from({ length: w }, (_, j) => `x${j}`).join(',')];
      for (let i = 0; i < n; i += 1) lines.push(Array.from(values.subarray(i * w, (i + 1) * w), (v) => v.toPrecision(7)).join(','));
      await writeFile(o.output, `${lines.join('\n')}\n`);
      return { rows: n, width: w };
    } finally {
      tf.dispose([...Object.values(ctx), ...Object.values(context?.ctx ?? {})]);
    }
  } finally {
    disposeParams(m.params);
  }
};
