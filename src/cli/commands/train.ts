/**
 * `typed-flows train`: trains a CAFLOW (or Dual-Glow+) model from a config, with a progress bar,
 * periodic atomic checkpoints, Ctrl-C saving a checkpoint, and --resume continuing from one.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { caflowSpec, type CaflowSpec } from '../../caflow/model.js';
import type { CaflowParams } from '../../caflow/params.js';
import { decodeCaflowCheckpoint, encodeCaflowCheckpoint } from '../../caflow/checkpoint.js';
import { initCaflow } from '../../caflow/init.js';
import { dequantize } from '../../caflow/quantize.js';
import type { RunConfig } from '../../experiments/config.js';
import { batchIndices, pairsAt } from '../../experiments/paired-data.js';
import { trainRun, type Progress } from '../../experiments/train-run.js';
import { createAdamState, type AdamState } from '../../training/adam.js';
import type { LossRecord } from '../../caflow/checkpoint.js';
import { disposeParams } from '../../dsl/params.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import { checkTrain } from '../limits.js';
import { modelConfigOf } from '../model-config.js';
import { writeJson, type RunDir } from '../run-dir.js';
import { loadRunData, type RunData } from '../run-data.js';
import { historyAtCheckpoint, listenForStop, nothingToTrain, openTrainRun, trainProgress, writeTrainSummary, type TrainSummary } from '../train-session.js';

export type { TrainSummary } from '../train-session.js';

export interface TrainCommandOptions {
  readonly out: string;
  readonly resume: boolean;
  readonly quiet: boolean;
}

/** Where training is: the parameters, Adam's state and the step. */
export interface RunState {
  readonly params: CaflowParams;
  readonly adam: AdamState;
  readonly step: number;
}

/** A new run's state at step 0: every ActNorm initialised from one larger batch (data-dependent init), Adam's moments zero. */
export const initialState = (model: CaflowSpec, config: RunConfig, data: RunData): RunState => {
  const initBatch = pairsAt(data.train, batchIndices(data.train.count, Math.min(256, data.train.count), config.train.seed, -1));
  const w = dequantize(initBatch.w, 'uniform', 1);
  const y = dequantize(initBatch.y, 'uniform', 2);
  const params = initCaflow(model, { seed: config.train.seed, w, y });
  tf.dispose([initBatch.w, initBatch.y, w, y]);
  return { params, adam: createAdamState(params), step: 0 };
};

/** The checkpoint (with the losses up to its step, written atomically), then history.json, its readable copy. */
export const saveRunState = async (dir: RunDir, model: CaflowSpec, config: RunConfig, s: RunState, losses: readonly LossRecord[]): Promise<void> => {
  const upTo = losses.filter((h) => h.step <= s.step);
  await writeCheckpointFile(dir.checkpoint, await encodeCaflowCheckpoint({ model, params: s.params, adam: s.adam, step: s.step, config, history: upTo }));
  await writeJson(dir.history, upTo);
};

export const trainCommand = async (config: RunConfig, o: TrainCommandOptions): Promise<TrainSummary & { readonly nothingToDo?: true }> => {
  const model = caflowSpec(modelConfigOf(config));
  checkTrain(model, config.train.batchSize);
  const { dir, resuming } = await openTrainRun(config, o);
  const data = await loadRunData(config);

  let start: RunState;
  let history: LossRecord[] = [];
  if (resuming) {
    const ckpt = decodeCaflowCheckpoint(new Uint8Array(await readFile(dir.checkpoint)), model);
    let done: ReturnType<typeof nothingToTrain>;
    try {
      done = nothingToTrain(config, ckpt.step);
    } finally {
      if (config.train.steps <= ckpt.step) disposeParams([ckpt.params, ckpt.adam.m, ckpt.adam.v]);
    }
    if (done !== undefined) return done;
    start = { params: ckpt.params, adam: ckpt.adam, step: ckpt.step };
    history = await historyAtCheckpoint(dir, ckpt);
  } else {
    start = initialState(model, config, data);
    await writeJson(dir.config, config);
  }

  const save = (s: RunState, losses: readonly LossRecord[]): Promise<void> => saveRunState(dir, model, config, s, losses);

  let stopRequested = false;
  const stopListening = listenForStop(() => (stopRequested = true));
  const progress = trainProgress(config, start.step, o.quiet);
  const recent: Array<{ step: number; loss: number }> = [];
  const onProgress = (p: Progress): void => {
    if (Number.isFinite(p.loss)) recent.push({ step: p.step, loss: p.loss });
    progress.report(p);
  };

  const began = performance.now();
  try {
    const r = await trainRun({
      model,
      data: data.train,
      params: start.params,
      adam: start.adam,
      startStep: start.step,
      steps: config.train.steps,
      batchSize: config.train.batchSize,
      seed: config.train.seed,
      lr: config.train.lr,
      warmup: config.train.warmup,
      clipNorm: config.train.clipNorm,
      mode: config.train.mode,
      checkpointEvery: config.train.checkpointEvery,
      saveCheckpoint: (s) => save(s, [...history, ...recent]),
      onProgress,
      shouldStop: () => stopRequested,
    });
    history = [...history, ...recent];
    await save({ params: r.params, adam: r.adam, step: r.step }, history);
    return await writeTrainSummary(dir, config, history, { startStep: start.step, end: r.step, skipped: r.skipped, stopped: r.stopped, began });
  } finally {
    progress.close();
    stopListening();
  }
};
