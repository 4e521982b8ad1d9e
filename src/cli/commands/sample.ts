/** `typed-flows sample`: k samples per held-out condition of a run, ranked, as a PNG grid (on tfjs, or on ONNX Runtime with --engine onnx). */
import * as tf from '@tensorflow/tfjs';
import { sampleRanked } from '../../experiments/evaluate.js';
import { pairsAt } from '../../experiments/paired-data.js';
import { withOnnx, type Engine } from '../engine.js';
import { checkSample } from '../limits.js';
import { loadRunData } from '../run-data.js';
import { runDir } from '../run-dir.js';
import { checkOutput } from '../output-rule.js';
import { svgBeside } from '../../node/figure.js';
import { gridTitle, writeSampleGrid } from '../../node/sample-grid.js';
import { loadRun } from './load-run.js';

export const sampleCommand = async (
  root: string,
  name: string,
  o: { k: number; temperature?: number; count: number; output?: string; seed: number; engine?: Engine; force?: boolean },
): Promise<string> => {
  const dir = runDir(root, name);
  // The grid's SVG is written beside it (src/node/figure.ts): checked as its twin.
  const output = (path: string): void =>
    checkOutput({ command: 'sample', option: '--output', path, twin: svgBeside(path), kind: 'sample grid', source: dir.path, ...(o.force === true ? { force: true } : {}) });
  if (o.output !== undefined) output(o.output);
  const run = await loadRun(dir);
  const { val } = await loadRunData(run.config);
  const count = Math.min(o.count, val.count);
  checkSample(run.model, count, o.k, 'sample');
  const temperature = o.temperature ?? run.config.eval.temperature;
  const file = o.output ?? dir.grid(`k${o.k}-t${temperature}`);
  if (o.output === undefined) output(file);
  const { w, y } = pairsAt(val, Array.from({ length: count }, (_, i) => i));
  const samples =
    o.engine === 'onnx'
      ? await withOnnx(run.model, run.params, o.k, (onnx) => onnx.sampleRanked(y, { temperature, seed: o.seed }))
      : sampleRanked(run.model, run.params, y, { samples: o.k, temperature, seed: o.seed });
  await writeSampleGrid(file, y, samples, w, o.k, gridTitle(run.config.model.variant, run.config.task, run.step, temperature));
  tf.dispose([w, y, samples]);
  return file;
};
