/**
 * `typed-flows train --engine pytorch`: the same run trained by the exported train.py. The model, the
 * script and the run's pairs go to a cache folder of the run (`<run>/pytorch/`); train.py runs under
 * torchrun (`python -m torch.distributed.run --standalone`, gloo on CPUs, nccl on GPUs) or, for one
 * process, plain Python; it reads and writes the run's own checkpoint (atomically: a temporary file
 * renamed into place) and prints one event line per step and checkpoint, which this command turns into
 * the progress bar, history.json and train-summary.json of a tfjs run. A new run is initialised by
 * tfjs (the same data-dependent init as `--engine tfjs`), so either engine can start or resume it.
 *
 * Stopping: the training processes run in their own process group, so a terminal's Ctrl-C reaches this
 * process only; the first Ctrl-C or SIGTERM writes a stop file, train.py's processes agree to stop after
 * the current step and save. A second Ctrl-C kills them (the last checkpoint stays intact). If this
 * process dies, train.py sees its pid gone (--watch-pid) and stops the same way.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeCaflowCheckpoint, type LossRecord } from '../../caflow/checkpoint.js';
import { caflowSpec, type CaflowSpec } from '../../caflow/model.js';
import { caflowToPyTorch } from '../../caflow/pytorch.js';
import { disposeParams } from '../../dsl/params.js';
import type { RunConfig } from '../../experiments/config.js';
import { PyTorchExportError } from '../../interpreters/pytorch/index.js';
import { TrainingDivergedError } from '../../training/step.js';
import { torchrunArgs } from '../hints.js';
import { CouldNotRunError, UsageError } from '../io.js';
import { modelConfigOf } from '../model-config.js';
import { readJson, writeJson, type RunDir } from '../run-dir.js';
import { loadRunData, type RunData } from '../run-data.js';
import { parseEvent, type TrainEvent } from '../train-events.js';
import { historyAtCheckpoint, listenForStop, nothingToTrain, openTrainRun, trainProgress, writeTrainSummary, type TrainSummary } from '../train-session.js';
import { checkCuda, findTorchPython, PYTHON_ENV_VAR, type TorchPython } from '../torch-python.js';
import { writePyTorchCode, writePyTorchData } from './export-pytorch.js';
import { initialState, saveRunState, type TrainCommandOptions } from './train.js';

/** Where and how train.py runs. */
export interface PyTorchTrainOptions extends TrainCommandOptions {
  /** cpu (gloo between processes) or cuda (one GPU per process, nccl). */
  readonly device: 'cpu' | 'cuda';
  /** Processes; 1 runs plain Python, more run torchrun. */
  readonly nproc: number;
  /** The Python with torch (else TYPED_FLOWS_PYTHON, else the usual places). */
  readonly python?: string;
}

/** The cache folder of a run (absolute: train.py runs in it): model.py, train.py, config.json, data.safetensors. */
export const pytorchCacheOf = (dir: RunDir): string => resolve(dir.path, 'pytorch');

/**
 * What the exporter and train.py cannot take, refused before any work (exit 2): a model the PyTorch
 * exporter cannot write (its spec path named), a batch that does not split over the processes.
 */
export const checkPyTorchTrain = (model: CaflowSpec, config: RunConfig, o: Pick<PyTorchTrainOptions, 'nproc'>): void => {
  try {
    caflowToPyTorch(model);
  } catch (e) {
    if (e instanceof PyTorchExportError) throw new UsageError(`--engine pytorch: the model of run '${config.name}' cannot be written as PyTorch: ${e.message}. Train it with --engine tfjs.`);
    throw e;
  }
  if (config.train.batchSize % o.nproc !== 0) {
    throw new UsageError(
      `--nproc ${o.nproc}: the config's train.batchSize ${config.train.batchSize} does not split evenly over ${o.nproc} processes (each takes an equal share of every batch); pass an --nproc that divides ${config.train.batchSize}.`,
    );
  }
};

/** The fields of a config its pairs depend on: the cached data.safetensors is reused while they are unchanged. */
const dataKey = (c: RunConfig): string => JSON.stringify({ task: c.task, data: c.data, size: c.size, seed: c.train.seed, valFraction: c.train.valFraction });

/** data.safetensors in the cache, written unless the one there was made from the same data fields. */
const cacheData = async (cache: string, config: RunConfig, loaded: RunData | undefined): Promise<void> => {
  const keyFile = join(cache, 'data-key.json');
  if (existsSync(join(cache, 'data.safetensors')) && existsSync(keyFile) && JSON.stringify(await readJson(keyFile, 'The data key')) === JSON.stringify(dataKey(config))) return;
  await writePyTorchData(cache, loaded ?? (await loadRunData(config)));
  await writeJson(keyFile, dataKey(config));
};

/** The last lines of a child's stderr, for a message. */
const tailOf = (lines: readonly string[]): string => lines.slice(-12).join('\n').trim();

/** The command line that runs train.py with `processes` processes. */
const launchCommand = (python: TorchPython, processes: number, script: string, args: readonly string[]): [string, string[]] =>
  processes === 1 ? [python.path, [script, ...args]] : [python.path, ['-m', 'torch.distributed.run', ...torchrunArgs(processes), script, ...args]];

/**
 * Trains the run `config` describes with the exported train.py (see the file comment): a new run is
 * initialised by tfjs and saved at step 0 first; `resume` continues a run either engine wrote. Returns
 * what `trainCommand` returns, and writes the same run files.
 */
export const trainPyTorchCommand = async (config: RunConfig, o: PyTorchTrainOptions): Promise<TrainSummary & { readonly nothingToDo?: true }> => {
  const model = caflowSpec(modelConfigOf(config));
  checkPyTorchTrain(model, config, o);
  const python = findTorchPython(o.python);
  if (o.device === 'cuda') checkCuda(python, o.nproc);
  const { dir, resuming } = await openTrainRun(config, o);

  let history: LossRecord[] = [];
  let startStep = 0;
  let loaded: RunData | undefined;
  if (resuming) {
    // Decoded in full against the model (Adam state included), so a checkpoint that cannot resume is refused here.
    const ckpt = decodeCaflowCheckpoint(new Uint8Array(await readFile(dir.checkpoint)), model);
    disposeParams([ckpt.params, ckpt.adam.m, ckpt.adam.v]);
    const done = nothingToTrain(config, ckpt.step);
    if (done !== undefined) return done;
    startStep = ckpt.step;
    history = await historyAtCheckpoint(dir, ckpt);
  } else {
    loaded = await loadRunData(config);
    const state = initialState(model, config, loaded);
    await writeJson(dir.config, config);
    await saveRunState(dir, model, config, state, []);
    disposeParams([state.params, state.adam.m, state.adam.v]);
  }

  const cache = pytorchCacheOf(dir);
  await writePyTorchCode(cache, { model, config });
  await cacheData(cache, config, loaded);
  const stopFile = join(cache, 'stop');
  rmSync(stopFile, { force: true });

  const args = [
    ...['--config', join(cache, 'config.json'), '--data', join(cache, 'data.safetensors'), '--checkpoint', resolve(dir.checkpoint), '--steps', String(config.train.steps)],
    ...['--device', o.device, '--no-eval', '--events', '--stop-file', stopFile, '--watch-pid', String(process.pid)],
  ];
  const [command, commandArgs] = launchCommand(python, o.nproc, join(cache, 'train.py'), args);
  const began = performance.now();
  const child = spawn(command, commandArgs, { cwd: cache, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const stopListening = listenForStop(
    () => writeFileSync(stopFile, 'stop\n'),
    () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The processes have ended already.
      }
      process.exit(130);
    },
  );
  const progress = trainProgress(config, startStep, o.quiet);
  const recent: LossRecord[] = [];
  const stderr: string[] = [];
  let started: Extract<TrainEvent, { event: 'start' }> | undefined;
  let done: Extract<TrainEvent, { event: 'done' }> | undefined;
  let diverged: Extract<TrainEvent, { event: 'diverged' }> | undefined;
  let saved = startStep;
  // history.json follows each checkpoint, one write after another.
  let writes = Promise.resolve();
  const onEvent = (e: TrainEvent): void => {
    if (e.event === 'start') started = e;
    else if (e.event === 'step') {
      if (Number.isFinite(e.loss)) recent.push({ step: e.step, loss: e.loss });
      progress.report({ step: e.step, steps: e.steps, loss: e.loss, stepsPerSecond: e.rate });
    } else if (e.event === 'checkpoint') {
      saved = e.step;
      const upTo = [...history, ...recent].filter((h) => h.step <= e.step);
      writes = writes.then(() => writeJson(dir.history, upTo));
    } else if (e.event === 'diverged') diverged = e;
    else done = e;
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    const e = parseEvent(line);
    if (e !== undefined) onEvent(e);
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 200) stderr.shift();
  });
  try {
    const exit = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
      child.on('error', (error) => resolve({ code: null, error }));
      child.on('close', (code) => resolve({ code }));
    });
    await writes;
    if (diverged !== undefined) throw new TrainingDivergedError(diverged.consecutive, diverged.loss, diverged.norm);
    if (exit.code !== 0 || done === undefined) {
      const how = exit.error !== undefined ? exit.error.message : `exit code ${exit.code}`;
      const output = tailOf(stderr);
      if (started === undefined) {
        const launcher = o.nproc === 1 ? `'${python.path}'` : `torchrun ('${python.path}' -m torch.distributed.run, ${torchrunArgs(o.nproc).join(' ')})`;
        throw new CouldNotRunError(
          `--engine pytorch: ${launcher} could not start the training (${how})${output === '' ? '' : `:\n${output}\n`}` +
            `Check that this torch runs (${o.nproc > 1 ? 'with --nproc 1 no torchrun is needed; ' : ''}--python or ${PYTHON_ENV_VAR} picks another Python). The run's checkpoint (step ${saved}) is unchanged.`,
        );
      }
      throw new CouldNotRunError(
        `--engine pytorch: training stopped with ${how} after step ${saved}${output === '' ? '' : `:\n${output}\n`}The run's last checkpoint (step ${saved}) is intact: --resume continues from it.`,
      );
    }
    const end = done.step;
    history = [...history, ...recent].filter((h) => h.step <= end);
    await writeJson(dir.history, history);
    return await writeTrainSummary(dir, config, history, { startStep, end, skipped: done.skipped, stopped: done.stopped, began });
  } finally {
    progress.close();
    stopListening();
    rmSync(stopFile, { force: true });
  }
};
