/**
 * `typed-flows fit --engine pytorch`: fit's training loop run by PyTorch. Everything up to the loop is
 * the tfjs path's (the split, standardisation from the training rows, the data-dependent
 * initialisation, the baselines): `fitPlan` (src/distributions/fit.ts) gives the split, the initial
 * parameters and every step's minibatch and learning rate, which go with the model as PyTorch code
 * (`distributionToPyTorch`) and the shipped fit.py (src/distributions/py/fit.py) to `<output>/pytorch/`.
 * fit.py runs fit's loop on them (same minibatches, schedule, clipping, evaluation cadence, early
 * stopping) and writes the best-validation parameters as a model file, which this module reads back
 * into a `FitResult`: the command then goes on exactly as on tfjs.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type * as tf from '@tensorflow/tfjs';
import { distributionFiles } from '../../distributions/py/files.js';
import { fitPlan, meanNll, type FitProgress, type FitResult, type TrainRecord, type ValidationRecord } from '../../distributions/fit.js';
import { decodeDistributionModel, encodeDistributionModel } from '../../distributions/model.js';
import { distributionToPyTorch } from '../../distributions/pytorch.js';
import type { AnyDistribution } from '../../distributions/spec.js';
import { disposeParams } from '../../dsl/params.js';
import { encodeSafetensors } from '../../io/safetensors.js';
import { PyTorchExportError } from '../../interpreters/pytorch/index.js';
import { TrainingDivergedError } from '../../training/step.js';
import { CouldNotRunError, UsageError } from '../io.js';
import { EVENT_MARKER, eventNumber } from '../train-events.js';
import { checkCuda, findTorchPython, PYTHON_ENV_VAR, type TorchPython } from '../torch-python.js';

/** Where and how fit.py runs. */
export interface PyTorchFitOptions {
  readonly device: 'cpu' | 'cuda';
  /** The Python with torch: `torchPythonFor`. */
  readonly python: TorchPython;
  /** The folder fit.py and its inputs go to. */
  readonly cache: string;
}

/** What fit's options are for the PyTorch loop (the tfjs `fit` takes the same). */
export interface PyTorchFitSettings {
  readonly steps: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly seed: number;
  readonly validationFraction?: number;
  readonly patience: number;
  readonly evalEvery: number;
  readonly initRows: number;
  /** Noise regularisation in standard deviations of each element (fit's `noise`); 0 or absent: none. */
  readonly noise?: number;
  /** Decay of the parameter average kept (fit's `averaging`); 0 or absent: the last iterate. */
  readonly averaging?: number;
}

/**
 * What `--engine pytorch` cannot fit, refused before any work (exit 2): a conditional fit, flow
 * matching, a model the PyTorch exporter cannot write (its spec path named).
 */
export const checkPyTorchFit = (o: { readonly context?: string; readonly objective?: string }, dist?: AnyDistribution): void => {
  if (o.context !== undefined) throw new UsageError('fit --engine pytorch fits unconditional densities only for now; a conditional fit (--context) runs with --engine tfjs (drop --engine pytorch).');
  if (o.objective === 'flow-matching') throw new UsageError('fit --engine pytorch trains by likelihood only; --objective flow-matching runs with --engine tfjs (drop --engine pytorch, or drop --objective).');
  if (dist === undefined) return;
  try {
    distributionToPyTorch(dist);
  } catch (e) {
    if (e instanceof PyTorchExportError) throw new UsageError(`fit --engine pytorch: the model cannot be written as PyTorch: ${e.message}. Fit it with --engine tfjs.`);
    throw e;
  }
};

/** The Python that runs fit.py (`--python`, else TYPED_FLOWS_PYTHON, else the usual places), checked for torch and, with cuda, a GPU: exit 3 otherwise. */
export const torchPythonFor = (o: { readonly python?: string; readonly device?: 'cpu' | 'cuda' }): TorchPython => {
  const python = findTorchPython(o.python);
  if (o.device === 'cuda') checkCuda(python, 1);
  return python;
};

/** The event lines of fit.py. */
type FitEvent =
  | { readonly event: 'start' | 'done' }
  | { readonly event: 'evaluation'; readonly step: number; readonly steps: number; readonly trainLoss: number; readonly validationNll: number | null; readonly best: number | null; readonly bestStep: number | null; readonly lr: number | null; readonly skipped: number }
  | { readonly event: 'diverged'; readonly consecutive: number; readonly loss: string; readonly norm: string };

const parseFitEvent = (line: string): FitEvent | undefined => {
  const at = line.indexOf(EVENT_MARKER);
  if (at < 0) return undefined;
  try {
    return JSON.parse(line.slice(at + EVENT_MARKER.length)) as FitEvent;
  } catch {
    return undefined;
  }
};

/**
 * Fits `dist` to the rows `data` [n, d] with fit.py (see the file comment); `onProgress` gets each
 * evaluation as tfjs's fit reports it (without the parameters: they live in Python).
 */
export const fitOnPyTorch = async (
  dist: AnyDistribution,
  data: tf.Tensor2D,
  settings: PyTorchFitSettings,
  o: PyTorchFitOptions,
  onProgress?: (p: Omit<FitProgress, 'params'>) => void,
): Promise<FitResult> => {
  const { python } = o;
  const plan = fitPlan(dist, data, settings);
  const cache = resolve(o.cache);
  try {
    await mkdir(cache, { recursive: true });
    await writeFile(join(cache, 'model.py'), distributionToPyTorch(dist));
    await writeFile(join(cache, 'fit.py'), distributionFiles['fit.py'] as string);
    await writeFile(join(cache, 'init.safetensors'), await encodeDistributionModel({ dist, params: plan.params }));
    const d = plan.trainX.shape[1] as number;
    const rows: Array<[string, { dtype: 'F32'; shape: number[]; data: Float32Array }]> = [['train', { dtype: 'F32', shape: [plan.split.train.length, d], data: plan.trainX.dataSync() as Float32Array }]];
    if (plan.valX !== undefined) rows.push(['validation', { dtype: 'F32', shape: [plan.split.validation.length, d], data: plan.valX.dataSync() as Float32Array }]);
    await writeFile(join(cache, 'rows.safetensors'), encodeSafetensors(rows));
    await writeFile(join(cache, 'batches.safetensors'), encodeSafetensors([['batches', { dtype: 'I32', shape: [plan.settings.steps, plan.batchSize], data: plan.batches }]]));
    await writeFile(
      join(cache, 'plan.json'),
      `${JSON.stringify({ init: 'init.safetensors', rows: 'rows.safetensors', batches: 'batches.safetensors', trainable: plan.trainable, lrs: [...plan.lrs], ...plan.settings, seed: settings.seed, noise: settings.noise ?? 0, averaging: settings.averaging ?? 0, clipNorm: Number.isFinite(plan.settings.clipNorm) ? plan.settings.clipNorm : null })}\n`,
    );
    const output = join(cache, 'best.safetensors');
    const stderr: string[] = [];
    let diverged: Extract<FitEvent, { event: 'diverged' }> | undefined;
    let started = false;
    const child = spawn(python.path, [join(cache, 'fit.py'), '--plan', join(cache, 'plan.json'), '--output', output, '--device', o.device], { cwd: cache, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = parseFitEvent(line);
      if (e === undefined) return;
      if (e.event === 'start') started = true;
      else if (e.event === 'diverged') diverged = e;
      else if (e.event === 'evaluation') {
        onProgress?.({
          step: e.step,
          steps: e.steps,
          trainLoss: eventNumber(e.trainLoss),
          validationNll: e.validationNll === null ? undefined : eventNumber(e.validationNll),
          best: e.best ?? undefined,
          bestStep: e.bestStep ?? undefined,
          lr: e.lr ?? undefined,
          skipped: e.skipped,
        });
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > 200) stderr.shift();
    });
    const exit = await new Promise<{ code: number | null; error?: Error }>((done) => {
      child.on('error', (error) => done({ code: null, error }));
      child.on('close', (code) => done({ code }));
    });
    if (diverged !== undefined) throw new TrainingDivergedError(diverged.consecutive, eventNumber(diverged.loss), eventNumber(diverged.norm));
    if (exit.code !== 0) {
      const output = stderr.slice(-12).join('\n').trim();
      throw new CouldNotRunError(
        `fit --engine pytorch: '${python.path}' ${started ? 'stopped fitting' : 'could not start fitting'} (${exit.error?.message ?? `exit code ${exit.code}`})${output === '' ? '' : `:\n${output}\n`}` +
          `Its inputs stay in '${cache}' (fit.py's docstring says how to rerun it by hand); --python or ${PYTHON_ENV_VAR} picks another Python.`,
      );
    }
    const best = decodeDistributionModel(new Uint8Array(await readFile(output)));
    const raw = JSON.parse(await readFile(`${output}.history.json`, 'utf8')) as { train: Array<{ step: number; loss: number | string; gradNorm: number | string; skipped: boolean }>; validation: Array<{ step: number; nll: number | string }> };
    const train: TrainRecord[] = raw.train.map((r) => ({ step: r.step, loss: eventNumber(r.loss), gradNorm: eventNumber(r.gradNorm), skipped: r.skipped }));
    const validation: ValidationRecord[] = raw.validation.map((v) => ({ step: v.step, nll: eventNumber(v.nll) }));
    const last = train[train.length - 1]?.step ?? 0;
    const chosen = plan.valX === undefined ? undefined : validation.reduce<ValidationRecord | undefined>((b, v) => (Number.isFinite(v.nll) && (b === undefined || v.nll < b.nll - plan.settings.minDelta) ? v : b), undefined);
    return {
      params: best.params,
      history: { train, validation },
      bestStep: best.step,
      validationNll: plan.valX === undefined ? undefined : (chosen?.nll ?? Number.NaN),
      trainNll: meanNll(dist, best.params, [plan.trainX]),
      steps: last,
      stoppedEarly: last < plan.settings.steps,
      skipped: train.filter((r) => r.skipped).length,
      trainRows: plan.split.train.length,
      validationRows: plan.split.validation.length,
      split: plan.split,
    };
  } finally {
    disposeParams(plan.params);
    plan.trainX.dispose();
    plan.valX?.dispose();
  }
};
