/**
 * `typed-flows eval`: held-out NLL, best-of-M sample scores, diversity and a sample grid for a run;
 * LPIPS and FID too when the user supplies their networks (--lpips-weights, --fid-model).
 */
import * as tf from '@tensorflow/tfjs';
import { evaluate, sampleRanked, type Evaluation } from '../../experiments/evaluate.js';
import { pairsAt } from '../../experiments/paired-data.js';
import type { PerceptualModels } from '../../experiments/perceptual.js';
import type { PixelRange } from '../../metrics/features.js';
import { disposeLpipsWeights, lpipsFeatureSizes } from '../../metrics/lpips.js';
import { gridTitle, writeSampleGrid } from '../../node/sample-grid.js';
import { UsageError } from '../io.js';
import { withOnnx, type Engine } from '../engine.js';
import { FID_NOT_COMPUTED, LPIPS_NOT_COMPUTED, readFidModel, readLpipsWeights } from '../perceptual-files.js';
import { conditionsPerSampleBatch } from '../limits.js';
import { loadRunData } from '../run-data.js';
import { runDir, writeJson } from '../run-dir.js';
import { checkWritablePlace } from '../output-rule.js';
import { silent, type Progress } from '../progress.js';
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
  /** Which networks LPIPS / FID came from, and what was not computed and why. */
  readonly perceptual: {
    readonly lpipsWeights: string | null;
    readonly fidModel: string | null;
    readonly fidRange: PixelRange | null;
    /** Images per set behind the FID (best samples vs their ground truths). */
    readonly fidSamples: number | null;
    readonly notComputed: readonly string[];
  };
}

export interface EvalOptions {
  readonly gridRows?: number;
  /** LPIPS-alex weights (safetensors). */
  readonly lpipsWeights?: string;
  /** FID feature network (TensorFlow.js model.json). */
  readonly fidModel?: string;
  /** Pixel range the FID network takes; default [-1, 1] (Keras InceptionV3's preprocess_input). */
  readonly fidRange?: PixelRange;
  /** Where sampling and the held-out NLL run: tfjs (default) or ONNX Runtime. */
  readonly engine?: Engine;
  /** Stages of the work as they start (default: silent). */
  readonly progress?: Progress;
}

export const DEFAULT_FID_RANGE: PixelRange = [-1, 1];

export const evalCommand = async (root: string, name: string, o: EvalOptions = {}): Promise<EvalResult> => {
  const dir = runDir(root, name);
  // eval writes its run's metrics.json and grid: the run's folder must be able to hold them.
  checkWritablePlace('eval', '--out', dir.metrics);
  // The user's networks are checked first: a bad file fails in seconds, not after the evaluation.
  const lpipsWeights = o.lpipsWeights === undefined ? undefined : await readLpipsWeights(o.lpipsWeights);
  const fidModel = o.fidModel === undefined ? undefined : await readFidModel(o.fidModel);
  const fidRange = o.fidRange ?? DEFAULT_FID_RANGE;
  const say = o.progress ?? silent;
  try {
    say(`loading run '${name}'`);
    const run = await loadRun(dir);
    const { val } = await loadRunData(run.config);
    say(`model at step ${run.step}; ${val.count} held-out pairs`);
    // The scored conditions are sampled in batches that fit the memory budget (the paper presets' 256 x 8 do not fit in one).
    const conditionsPerBatch = conditionsPerSampleBatch(run.model, Math.min(run.config.eval.conditions, val.count), run.config.eval.samples, `eval (the config's eval.samples)`);
    // Likewise the held-out NLL's batches of pairs (32 unless fewer fit).
    const batchSize = conditionsPerSampleBatch(run.model, 32, 1, 'eval (the held-out NLL)');
    if (lpipsWeights !== undefined) {
      const [, h, w] = val.targetShape;
      try {
        lpipsFeatureSizes(h, w);
      } catch (e) {
        throw new UsageError(`--lpips-weights: ${(e as Error).message}; the targets of run '${name}' are ${h}x${w}, so LPIPS cannot be computed for it. Leave out --lpips-weights.`);
      }
    }
    const perceptual: PerceptualModels = {
      ...(lpipsWeights === undefined ? {} : { lpips: lpipsWeights }),
      ...(fidModel === undefined ? {} : { fid: { model: fidModel, range: fidRange } }),
    };
    const began = performance.now();
    const k = run.config.eval.samples;
    say(
      `held-out NLL over ${val.count} pairs (batches of ${batchSize}) and best of ${k} samples for ${Math.min(run.config.eval.conditions, val.count)} conditions ` +
        `(${conditionsPerBatch} per batch) on ${o.engine === 'onnx' ? 'ONNX Runtime' : 'tfjs'}: the longest stage`,
    );
    const rows = Math.min(o.gridRows ?? 8, val.count);
    const { w, y } = pairsAt(val, Array.from({ length: rows }, (_, i) => i));
    const evalSeed = run.config.train.seed + 7;
    const gridSeed = run.config.train.seed + 11;
    let e: Evaluation;
    let samples: tf.Tensor4D;
    let seconds: number;
    if (o.engine === 'onnx') {
      // The same schedule on ONNX Runtime: the ranked samples of the scored conditions and the NLL batches.
      const conditions = Math.min(run.config.eval.conditions, val.count);
      const scored = pairsAt(val, Array.from({ length: conditions }, (_, i) => i));
      const computed = await withOnnx(run.model, run.params, k, async (onnx) => ({
        ranked: await onnx.sampleRankedInBatches(scored.y, { temperature: run.config.eval.temperature, seed: evalSeed, conditionsPerBatch }),
        nll: await onnx.heldOutNll(val, { seed: evalSeed, batchSize, ...(run.config.eval.nllDraws === undefined ? {} : { draws: run.config.eval.nllDraws }) }),
        grid: await onnx.sampleRanked(y, { temperature: run.config.eval.temperature, seed: gridSeed }),
      }));
      e = evaluate(run.model, run.params, val, { ...run.config.eval, seed: evalSeed, perceptual, conditionsPerBatch, batchSize, computed });
      // One session serves both, so this time includes the grid's few samples.
      seconds = (performance.now() - began) / 1000;
      samples = computed.grid;
      tf.dispose([scored.w, scored.y, computed.ranked]);
    } else {
      e = evaluate(run.model, run.params, val, { ...run.config.eval, seed: evalSeed, perceptual, conditionsPerBatch, batchSize });
      seconds = (performance.now() - began) / 1000;
      samples = sampleRanked(run.model, run.params, y, { samples: k, temperature: run.config.eval.temperature, seed: gridSeed });
    }
    say(`scored in ${seconds.toFixed(1)} s; writing the sample grid and metrics.json`);
    const grid = dir.grid(`t${run.config.eval.temperature}`);
    await writeSampleGrid(grid, y, samples, w, k, gridTitle(run.config.model.variant, run.config.task, run.step, run.config.eval.temperature));
    tf.dispose([w, y, samples]);
    const conditionsScored = Math.min(run.config.eval.conditions, val.count);
    const result: EvalResult = {
      ...e,
      name,
      variant: run.config.model.variant,
      task: run.config.task,
      step: run.step,
      temperature: run.config.eval.temperature,
      samplesPerCondition: k,
      conditionsScored,
      seconds,
      grid,
      perceptual: {
        lpipsWeights: o.lpipsWeights ?? null,
        fidModel: o.fidModel ?? null,
        fidRange: fidModel === undefined ? null : fidRange,
        fidSamples: fidModel === undefined ? null : conditionsScored,
        notComputed: [...(lpipsWeights === undefined ? [LPIPS_NOT_COMPUTED] : []), ...(fidModel === undefined ? [FID_NOT_COMPUTED] : [])],
      },
    };
    await writeJson(dir.metrics, result);
    return result;
  } finally {
    if (lpipsWeights !== undefined) disposeLpipsWeights(lpipsWeights);
    fidModel?.dispose();
  }
};
