/**
 * `typed-flows train`: trains a CAFLOW (or Dual-Glow+) model from a config, with a progress bar,
 * periodic atomic checkpoints, Ctrl-C saving a checkpoint, and --resume continuing from one.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import cliProgress from 'cli-progress';
import { caflowSpec } from '../../caflow/model.js';
import { decodeCaflowCheckpoint, encodeCaflowCheckpoint } from '../../caflow/checkpoint.js';
import { initCaflow } from '../../caflow/init.js';
import { dequantize } from '../../caflow/quantize.js';
import type { RunConfig } from '../../experiments/config.js';
import { batchIndices, pairsAt } from '../../experiments/paired-data.js';
import { trainRun, type Progress } from '../../experiments/train-run.js';
import { createAdamState } from '../../training/adam.js';
import type { LossRecord } from '../../caflow/checkpoint.js';
import { disposeParams } from '../../dsl/params.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import { removeStaleTemporaries } from '../../node/temp-files.js';
import { UsageError } from '../io.js';
import { checkTrain } from '../limits.js';
import { modelConfigOf } from '../model-config.js';
import { runDir, readJson, writeJson } from '../run-dir.js';
import { checkOutput } from '../output-rule.js';
import { loadRunData } from '../run-data.js';

export interface TrainCommandOptions {
  readonly out: string;
  readonly resume: boolean;
  readonly quiet: boolean;
}

export interface TrainSummary {
  /** The step the run is at now (all invocations). */
  readonly steps: number;
  /** Steps this invocation took. */
  readonly stepsThisRun: number;
  /** The run's target (config train.steps). */
  readonly totalSteps: number;
  readonly seconds: number;
  readonly finalLoss: number;
  readonly skipped: number;
  readonly stopped: boolean;
}

const formatDuration = (s: number): string => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);

export const trainCommand = async (config: RunConfig, o: TrainCommandOptions): Promise<TrainSummary & { readonly nothingToDo?: true }> => {
  const dir = runDir(o.out, config.name);
  checkOutput({ command: 'train', option: '--out/--name', path: dir.path, kind: 'run' });
  const model = caflowSpec(modelConfigOf(config));
  checkTrain(model, config.train.batchSize);
  const data = await loadRunData(config);
  const resuming = o.resume && existsSync(dir.checkpoint);
  if (o.resume && !resuming) throw new UsageError(`--resume: there is no checkpoint at '${dir.checkpoint}' to resume from. Drop --resume to start a new run.`);
  if (!o.resume && existsSync(dir.checkpoint)) {
    throw new UsageError(`'${dir.path}' already holds a run. Pass --resume to continue it, or choose another --name.`);
  }

  // Temporary files of writes interrupted by a kill (they are never renamed into place): remove them.
  const stale = await removeStaleTemporaries(dir.path);
  if (stale.files.length > 0 && !o.quiet) {
    console.error(`${config.name}: removed ${stale.files.length} temporary file(s) (${(stale.bytes / 1e6).toFixed(1)} MB) left by an interrupted run`);
  }

  let start: { params: ReturnType<typeof initCaflow>; adam: ReturnType<typeof createAdamState>; step: number };
  let history: LossRecord[] = [];
  if (resuming) {
    const ckpt = decodeCaflowCheckpoint(new Uint8Array(await readFile(dir.checkpoint)), model);
    if (config.train.steps <= ckpt.step) {
      disposeParams([ckpt.params, ckpt.adam.m, ckpt.adam.v]);
      if (config.train.steps < ckpt.step) {
        throw new UsageError(
          `--resume: the run '${config.name}' is at step ${ckpt.step} already, past the ${config.train.steps} steps asked for; nothing was changed. Pass --steps above ${ckpt.step} to train further.`,
        );
      }
      return { nothingToDo: true, steps: ckpt.step, stepsThisRun: 0, totalSteps: config.train.steps, seconds: 0, finalLoss: NaN, skipped: 0, stopped: false };
    }
    start = { params: ckpt.params, adam: ckpt.adam, step: ckpt.step };
    // The checkpoint holds the losses up to its step; history.json may lag behind it (a kill between
    // the two writes) or run ahead of it. Checkpoints of earlier versions have no history: use the file.
    if (ckpt.history !== undefined) history = [...ckpt.history];
    else if (existsSync(dir.history)) history = ((await readJson(dir.history, 'History')) as LossRecord[]).filter((h) => h.step <= ckpt.step);
    await writeJson(dir.history, history);
  } else {
    // Data-dependent init of every ActNorm from one larger batch.
    const initBatch = pairsAt(data.train, batchIndices(data.train.count, Math.min(256, data.train.count), config.train.seed, -1));
    const w = dequantize(initBatch.w, 'uniform', 1);
    const y = dequantize(initBatch.y, 'uniform', 2);
    const params = initCaflow(model, { seed: config.train.seed, w, y });
    tf.dispose([initBatch.w, initBatch.y, w, y]);
    start = { params, adam: createAdamState(params), step: 0 };
    await writeJson(dir.config, config);
  }

  /** The checkpoint (with the losses up to its step), then history.json, its readable copy. */
  const save = async (s: { params: typeof start.params; adam: typeof start.adam; step: number }, losses: readonly LossRecord[]): Promise<void> => {
    const upTo = losses.filter((h) => h.step <= s.step);
    await writeCheckpointFile(dir.checkpoint, await encodeCaflowCheckpoint({ model, params: s.params, adam: s.adam, step: s.step, config, history: upTo }));
    await writeJson(dir.history, upTo);
  };

  let stopRequested = false;
  const onSigint = (): void => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    process.stderr.write('\ntyped-flows: stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);

  const interactive = process.stderr.isTTY === true && !o.quiet;
  const bar = new cliProgress.SingleBar(
    { format: `${config.name} |{bar}| {value}/{total} steps | loss {loss} | {rate} steps/s | ETA {eta_formatted}`, hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  if (interactive) bar.start(config.train.steps, start.step, { loss: '-', rate: '-' });
  let lastLog = performance.now();
  const recent: Array<{ step: number; loss: number }> = [];
  const onProgress = (p: Progress): void => {
    if (Number.isFinite(p.loss)) recent.push({ step: p.step, loss: p.loss });
    const payload = { loss: Number.isFinite(p.loss) ? p.loss.toFixed(3) : String(p.loss), rate: p.stepsPerSecond.toFixed(2) };
    if (interactive) bar.update(p.step, payload);
    else if (!o.quiet && (performance.now() - lastLog > 10_000 || p.step === p.steps)) {
      lastLog = performance.now();
      const eta = (p.steps - p.step) / Math.max(p.stepsPerSecond, 1e-9);
      console.error(`${config.name}: step ${p.step}/${p.steps}, loss ${payload.loss}, ${payload.rate} steps/s, ETA ${formatDuration(eta)}`);
    }
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
    const summary: TrainSummary = {
      steps: r.step,
      stepsThisRun: r.step - start.step,
      totalSteps: config.train.steps,
      seconds: (performance.now() - began) / 1000,
      finalLoss: history[history.length - 1]?.loss ?? NaN,
      skipped: r.skipped,
      stopped: r.stopped,
    };
    await writeJson(dir.summary, summary);
    return summary;
  } finally {
    if (interactive) bar.stop();
    process.off('SIGINT', onSigint);
  }
};
