/**
 * What every `typed-flows train` invocation does around the training itself, whichever engine trains:
 * the run folder checked (a new run, or --resume of one), the progress bar or log lines, and the stop
 * request of a first Ctrl-C or SIGTERM (a second Ctrl-C quits at once).
 */
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { RunConfig } from '../experiments/config.js';
import { removeStaleTemporaries } from '../node/temp-files.js';
import { UsageError } from './io.js';
import { checkOutput } from './output-rule.js';
import { readJson, runDir, writeJson, type RunDir } from './run-dir.js';
import type { LossRecord } from '../caflow/checkpoint.js';

/** What a train invocation did (train-summary.json). */
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

/**
 * Writes train-summary.json at the end of an invocation, from either engine: where the run is now
 * (`end`), what this invocation started from, and the last recorded loss of `history`.
 */
export const writeTrainSummary = async (
  dir: RunDir,
  config: RunConfig,
  history: readonly LossRecord[],
  run: { readonly startStep: number; readonly end: number; readonly skipped: number; readonly stopped: boolean; readonly began: number },
): Promise<TrainSummary> => {
  const summary: TrainSummary = {
    steps: run.end,
    stepsThisRun: run.end - run.startStep,
    totalSteps: config.train.steps,
    seconds: (performance.now() - run.began) / 1000,
    finalLoss: history[history.length - 1]?.loss ?? NaN,
    skipped: run.skipped,
    stopped: run.stopped,
  };
  await writeJson(dir.summary, summary);
  return summary;
};

/** One step's report, from either engine. */
export interface StepProgress {
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly stepsPerSecond: number;
}

const formatDuration = (s: number): string => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);

/**
 * The run folder of a train invocation, checked before any work: a new run must not exist yet and
 * --resume needs a checkpoint. Temporary files of writes a kill cut short are removed.
 */
export const openTrainRun = async (config: RunConfig, o: { readonly out: string; readonly resume: boolean; readonly quiet: boolean }): Promise<{ readonly dir: RunDir; readonly resuming: boolean }> => {
  const dir = runDir(o.out, config.name);
  checkOutput({ command: 'train', option: '--out/--name', path: dir.path, kind: 'run' });
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
  return { dir, resuming };
};

/**
 * A resume of a run at `step` that has nothing to train: the summary to return when it is at the target
 * already, a UsageError when it is past it (nothing is changed); undefined when there are steps to train.
 */
export const nothingToTrain = (config: RunConfig, step: number): (TrainSummary & { readonly nothingToDo: true }) | undefined => {
  if (config.train.steps < step) {
    throw new UsageError(
      `--resume: the run '${config.name}' is at step ${step} already, past the ${config.train.steps} steps asked for; nothing was changed. Pass --steps above ${step} to train further.`,
    );
  }
  return config.train.steps === step ? { nothingToDo: true, steps: step, stepsThisRun: 0, totalSteps: config.train.steps, seconds: 0, finalLoss: NaN, skipped: 0, stopped: false } : undefined;
};

/**
 * The losses of a resumed run up to its checkpoint's step, written to history.json. The checkpoint holds
 * them; history.json may lag behind it (a kill between the two writes) or run ahead of it. Checkpoints of
 * earlier versions have no history: the file's, up to the step, is taken.
 */
export const historyAtCheckpoint = async (dir: RunDir, ckpt: { readonly step: number; readonly history?: readonly LossRecord[] }): Promise<LossRecord[]> => {
  const history =
    ckpt.history !== undefined ? [...ckpt.history] : existsSync(dir.history) ? ((await readJson(dir.history, 'History')) as LossRecord[]).filter((h) => h.step <= ckpt.step) : [];
  await writeJson(dir.history, history);
  return history;
};

/** A progress bar on a terminal, else a log line every 10 s and at the last step; nothing with quiet. */
export const trainProgress = (config: RunConfig, startStep: number, quiet: boolean): { readonly report: (p: StepProgress) => void; readonly close: () => void } => {
  const interactive = process.stderr.isTTY === true && !quiet;
  const bar = new cliProgress.SingleBar(
    { format: `${config.name} |{bar}| {value}/{total} steps | loss {loss} | {rate} steps/s | ETA {eta_formatted}`, hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  if (interactive) bar.start(config.train.steps, startStep, { loss: '-', rate: '-' });
  let lastLog = performance.now();
  return {
    report: (p) => {
      const payload = { loss: Number.isFinite(p.loss) ? p.loss.toFixed(3) : String(p.loss), rate: p.stepsPerSecond.toFixed(2) };
      if (interactive) bar.update(p.step, payload);
      else if (!quiet && (performance.now() - lastLog > 10_000 || p.step === p.steps)) {
        lastLog = performance.now();
        const eta = (p.steps - p.step) / Math.max(p.stepsPerSecond, 1e-9);
        console.error(`${config.name}: step ${p.step}/${p.steps}, loss ${payload.loss}, ${payload.rate} steps/s, ETA ${formatDuration(eta)}`);
      }
    },
    close: () => {
      if (interactive) bar.stop();
    },
  };
};

/**
 * Listens for a stop request: the first Ctrl-C or SIGTERM calls `onStop` (training stops after its
 * current step and saves a checkpoint); a second one calls `onQuit` (default: exit 130 at once).
 * Returns the function that stops listening.
 */
export const listenForStop = (onStop: () => void, onQuit: () => void = () => process.exit(130)): (() => void) => {
  let requested = false;
  const handler = (): void => {
    if (requested) {
      onQuit();
      return;
    }
    requested = true;
    process.stderr.write('\ntyped-flows: stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)\n');
    onStop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
};
