/** `typed-flows eval`: held-out NLL, best-of-M sample scores, diversity and a sample grid for a run. */
import * as tf from '@tensorflow/tfjs';
import { evaluate, sampleRanked, type Evaluation } from '../../experiments/evaluate.js';
import { pairsAt } from '../../experiments/paired-data.js';
import { writeImageGrid } from '../../node/png.js';
import { loadRunData } from '../run-data.js';
import { runDir, writeJson } from '../run-dir.js';
import { loadRun } from './load-run.js';

export interface EvalResult extends Evaluation {
  readonly name: string;
  readonly variant: string;
  readonly task: string;
  readonly step: number;
  readonly temperature: number;
  readonly samplesPerCondition: number;
  readonly conditionsScored: number;
  readonly seconds: number;
  readonly grid: string;
}

/** Rows of the grid: per condition, Y | k samples best first | ground truth (as in the paper's figures). */
export const writeSampleGrid = async (file: string, y: tf.Tensor4D, samples: tf.Tensor4D, w: tf.Tensor4D, k: number): Promise<void> => {
  const rows = Array.from({ length: y.shape[0] }, (_, i) =>
    tf.tidy(() => {
      const channels = w.shape[3];
      const yi = tf.slice(y, [i, 0, 0, 0], [1, -1, -1, -1]);
      const yShown = yi.shape[3] === channels ? yi : tf.tile(yi, [1, 1, 1, channels]);
      return tf.concat([yShown, tf.slice(samples, [i * k, 0, 0, 0], [k, -1, -1, -1]), tf.slice(w, [i, 0, 0, 0], [1, -1, -1, -1])]) as tf.Tensor4D;
    }),
  );
  await writeImageGrid(file, rows, { padding: 2, scale: 2 });
  tf.dispose(rows);
};

export const evalCommand = async (root: string, name: string, o: { gridRows?: number } = {}): Promise<EvalResult> => {
  const dir = runDir(root, name);
  const run = await loadRun(dir);
  const { val } = await loadRunData(run.config);
  const began = performance.now();
  const e = evaluate(run.model, run.params, val, { ...run.config.eval, seed: run.config.train.seed + 7 });
  const seconds = (performance.now() - began) / 1000;
  const rows = Math.min(o.gridRows ?? 8, val.count);
  const { w, y } = pairsAt(val, Array.from({ length: rows }, (_, i) => i));
  const k = run.config.eval.samples;
  const samples = sampleRanked(run.model, run.params, y, { samples: k, temperature: run.config.eval.temperature, seed: run.config.train.seed + 11 });
  const grid = dir.grid(`t${run.config.eval.temperature}`);
  await writeSampleGrid(grid, y, samples, w, k);
  tf.dispose([w, y, samples]);
  const result: EvalResult = {
    ...e,
    name,
    variant: run.config.model.variant,
    task: run.config.task,
    step: run.step,
    temperature: run.config.eval.temperature,
    samplesPerCondition: k,
    conditionsScored: Math.min(run.config.eval.conditions, val.count),
    seconds,
    grid,
  };
  await writeJson(dir.metrics, result);
  return result;
};
