/**
 * A training run of a CAFLOW model on paired data: warm-up and decay schedule, gradient clipping,
 * NaN-skipping with a stop after too many in a row, periodic atomic checkpoints via a callback,
 * progress reports, and a stop request (e.g. Ctrl-C) honoured between steps. Browser-safe: files
 * are written by the caller's `saveCheckpoint`.
 */
import type { CaflowParams } from '../caflow/params.js';
import type { CaflowSpec } from '../caflow/model.js';
import { caflowStep, type Phase } from '../caflow/train.js';
import { createAdamState, type AdamState } from '../training/adam.js';
import { learningRate } from '../training/schedule.js';
import { NaNGuard, disposeReplaced } from '../training/step.js';
import * as tf from '@tensorflow/tfjs';
import { batchIndices, pairsAt, type PairedData } from './paired-data.js';

export interface Progress {
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly skipped: number;
  readonly stepsPerSecond: number;
}

export interface TrainRunOptions {
  readonly model: CaflowSpec;
  readonly data: PairedData;
  readonly params: CaflowParams;
  readonly adam: AdamState;
  /** The step to start from (non-zero when resuming). */
  readonly startStep: number;
  /** Total steps of the run. */
  readonly steps: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly lr: number;
  readonly warmup: number;
  readonly clipNorm: number;
  /** 'joint' end to end; 'pretrain' trains R and T for the first half of the steps, then the G_i. */
  readonly mode: 'joint' | 'pretrain';
  readonly checkpointEvery?: number;
  readonly saveCheckpoint?: (state: { params: CaflowParams; adam: AdamState; step: number }) => Promise<void>;
  readonly onProgress?: (p: Progress) => void;
  readonly shouldStop?: () => boolean;
  readonly maxConsecutiveSkips?: number;
}

export interface TrainRunResult {
  readonly params: CaflowParams;
  readonly adam: AdamState;
  readonly step: number;
  readonly history: ReadonlyArray<{ readonly step: number; readonly loss: number }>;
  readonly skipped: number;
  readonly stopped: boolean;
}

const phaseAt = (mode: TrainRunOptions['mode'], step: number, steps: number): Phase =>
  mode === 'joint' ? 'joint' : step < Math.floor(steps / 2) ? 'encoders' : 'priors';

export const trainRun = async (o: TrainRunOptions): Promise<TrainRunResult> => {
  let { params, adam } = o;
  const guard = new NaNGuard({ maxConsecutive: o.maxConsecutiveSkips ?? 10 });
  const history: Array<{ step: number; loss: number }> = [];
  const stepsPerEpoch = Math.max(1, Math.floor(o.data.count / o.batchSize));
  let skipped = 0;
  let step = o.startStep;
  const started = performance.now();
  let stopped = false;
  while (step < o.steps) {
    // Yield to the event loop between steps, so a stop request (a signal handler) can run.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    if (o.shouldStop?.() === true) {
      stopped = true;
      break;
    }
    const phase = phaseAt(o.mode, step, o.steps);
    const phaseBefore = step === 0 ? phase : phaseAt(o.mode, step - 1, o.steps);
    if (phase !== phaseBefore) {
      // A fresh optimiser for the second pretraining phase: other parameters, other moments.
      const fresh = createAdamState(params);
      disposeReplaced(adam, fresh);
      adam = fresh;
    }
    const batch = pairsAt(o.data, batchIndices(o.data.count, o.batchSize, o.seed, step));
    const lr = learningRate(step + 1, { base: o.lr, warmup: o.warmup, stepsPerEpoch });
    const r = caflowStep(o.model, params, adam, batch, { phase, lr, clipNorm: o.clipNorm, seed: o.seed * 100_003 + step });
    tf.dispose([batch.w, batch.y]);
    disposeReplaced(params, r.params);
    disposeReplaced(adam, r.state);
    params = r.params;
    adam = r.state;
    step += 1;
    if (r.skipped) skipped += 1;
    else history.push({ step, loss: r.loss });
    try {
      guard.record(r);
    } catch (e) {
      // Too many non-finite steps in a row: keep the last good state (skipped steps changed nothing).
      await o.saveCheckpoint?.({ params, adam, step });
      throw e;
    }
    const seconds = (performance.now() - started) / 1000;
    o.onProgress?.({ step, steps: o.steps, loss: r.loss, skipped, stepsPerSecond: (step - o.startStep) / seconds });
    if (o.saveCheckpoint !== undefined && o.checkpointEvery !== undefined && step % o.checkpointEvery === 0) {
      await o.saveCheckpoint({ params, adam, step });
    }
  }
  return { params, adam, step, history, skipped, stopped };
};
