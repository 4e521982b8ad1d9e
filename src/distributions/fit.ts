/**
 * Fitting a distribution's parameters.
 *
 * `fit(dist, data, options)`: maximum likelihood. The rows are shuffled (seeded) and split into a
 * training and a validation part (by default 20% of the rows, at least min(100, n/2) and at most
 * 10,000: enough rows that the checkpoint chosen on them is not chosen by noise); each step takes a
 * minibatch of training rows (epochs of a seeded permutation) and does one `trainStep`
 * (src/training/step.ts) on the mean negative log-likelihood: Adam at a cosine-decayed learning rate
 * after a linear warm-up (`cosineLearningRate`), global-norm clipping, and steps whose loss or
 * gradient norm is not finite skipped (a
 * `NaNGuard` stops the run after `maxConsecutiveSkips` of them in a row). Every `evalEvery` steps the
 * validation NLL is computed; the parameters with the best one are kept, and the run stops early after
 * `patience` evaluations without an improvement of at least `minDelta`. Returns the best parameters
 * (the last ones without a validation part) and the history.
 *
 * `fitVariational(dist, logDensity, options)`: the reparameterised reverse KL. Each step draws
 * `samples` points x = flow^-1(z) with their log q(x) from one sampling pass, and minimises
 * mean(log q(x) - log p~(x)) for an unnormalised target log-density p~ (= KL(q || p) - log Z).
 *
 * Both own every tensor they create: the data tensors passed in and the initial parameters are not
 * disposed (the initial params are copied), and the tensor count is flat across steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { Context } from '../dsl/definition.js';
import { withProbeSeeds } from '../dsl/bijectors/cnf.js';
import { ShapeMismatchError } from '../dsl/errors.js';
import { disposeParams, mapParams, type ParamTree } from '../dsl/params.js';
import { seededRandom, shuffledIndices } from '../dsl/random.js';
import { updateAverage } from '../training/average.js';
import { elementScales, withNoise } from './training-noise.js';
import type { CondShapes, Shapes } from '../dsl/shape.js';
import type { ContextOf, FirstTensorOf, TensorsOf } from '../interpreters/tensors.js';
import { checkInputs } from '../interpreters/transform.js';
import { createAdamState, type AdamState } from '../training/adam.js';
import { cosineLearningRate } from '../training/schedule.js';
import { disposeReplaced, NaNGuard, trainStep, type TrainStepOptions } from '../training/step.js';
import { checkDistributionParams, type EventInputs, distributionParamInfo, initDistribution, logProbRaw, sampleRaw, seedStream } from './interpret.js';
import { distributionSignature, mapFlows, type Distribution, type DistributionSpec } from './spec.js';
import { flowMatchingLoss, flowMatchingPlan, type Pairing } from './flow-matching.js';

/** One training step of a fit: its minibatch loss, gradient norm and whether it was skipped. */
export interface TrainRecord {
  readonly step: number;
  /** The minibatch loss before the update (mean NLL in nats for `fit`; mean log q - log p~ for `fitVariational`). */
  readonly loss: number;
  readonly gradNorm: number;
  /** True when the loss or the gradient norm was not finite and the step changed nothing. */
  readonly skipped: boolean;
}

/** One validation of a fit: the step and the mean validation NLL. */
export interface ValidationRecord {
  readonly step: number;
  /** Mean NLL per sample on the validation rows, in nats. */
  readonly nll: number;
}

/** A progress report of a fit, passed to its `onProgress` callback. */
export interface FitProgress {
  readonly step: number;
  readonly steps: number;
  /** Mean training loss over the steps since the last report (skipped steps left out). */
  readonly trainLoss: number;
  /** Validation NLL at this step (undefined without a validation part, and in fitVariational). */
  readonly validationNll: number | undefined;
  readonly best: number | undefined;
  /** The step whose parameters scored `best` (undefined with no validation part). */
  readonly bestStep: number | undefined;
  /** The learning rate of the last step (undefined before the first). */
  readonly lr: number | undefined;
  readonly skipped: number;
  /**
   * The parameters at this step, valid during the callback only (the next step disposes them): read
   * or clone what you keep. A live view (a density drawn as it trains) reads them here.
   */
  readonly params: ParamTree;
}

interface CommonOptions {
  /** Maximum number of steps. Default 1000. */
  readonly steps?: number;
  /**
   * Adam's learning rate or a schedule of the 1-based step. Default 1e-3. In `fit` a number is the
   * peak of the cosine schedule (see `schedule`).
   */
  readonly lr?: number | ((step: number) => number);
  /** Seed of the initialisation, shuffling, split and minibatches (or of the draws). Default 0. */
  readonly seed?: number;
  /** Global gradient-norm clipping; Infinity turns it off. Default 10. */
  readonly clipNorm?: number;
  /** Initial parameters (copied; the caller keeps them). Default: `initDistribution` (data-dependent in `fit`). */
  readonly params?: ParamTree;
  /** Steps between evaluations and progress reports. Default 50. */
  readonly evalEvery?: number;
  /** Called at every evaluation. */
  readonly onProgress?: (progress: FitProgress) => void;
  /** Non-finite steps in a row after which the run stops with a TrainingDivergedError. Default 10. */
  readonly maxConsecutiveSkips?: number;
}

/** Options of `fit` (maximum likelihood). */
export interface FitOptions<C extends CondShapes> extends CommonOptions {
  /** Rows per minibatch (capped at the number of training rows). Default 256. */
  readonly batchSize?: number;
  /**
   * Fraction of the rows held out for validation and early stopping; 0 turns both off. Default
   * `defaultValidationRows(n)` rows (20%, at least min(100, n/2), at most 10,000).
   */
  readonly validationFraction?: number;
  /**
   * What a numeric `lr` does over the run: 'cosine' (default) warms up linearly over `warmup` steps,
   * then decays to lr/100 at `steps` (`cosineLearningRate`); 'constant' keeps it.
   */
  readonly schedule?: 'cosine' | 'constant';
  /** Warm-up steps of the cosine schedule. Default min(100, steps/20). */
  readonly warmup?: number;
  /** Evaluations without improvement before stopping. Default 10; Infinity never stops early. */
  readonly patience?: number;
  /** Smallest decrease of the validation NLL that counts as an improvement. Default 1e-4. */
  readonly minDelta?: number;
  /**
   * Decay of an exponential moving average of the parameters (src/training/average.ts), which is then
   * what is validated, chosen and returned instead of the last iterate; 0 turns it off. Default 0.
   */
  readonly averaging?: number;
  /**
   * Gaussian noise added to every training minibatch, in standard deviations of each element over the
   * training rows (noise regularisation: src/distributions/training-noise.ts); validation rows get
   * none. 0 turns it off. Default 0.
   */
  readonly noise?: number;
  /** The conditioning of each row, for a conditional distribution (split and batched with the rows). */
  readonly ctx?: ContextOf<C>;
  /** Rows used for data-dependent initialisation (when `params` is not given). Default 1024. */
  readonly initRows?: number;
  /**
   * 'likelihood' (default): minimise the NLL. 'flow-matching': train the cnf that ends the flow by
   * flow matching (src/distributions/flow-matching.ts); validation and the returned NLLs are still
   * exact log-likelihoods, so the two objectives are compared on one scale.
   */
  readonly objective?: 'likelihood' | 'flow-matching';
  /** Flow matching's pairing of noise with data rows: 'independent' (default) or 'ot' (minibatch optimal transport). */
  readonly pairing?: Pairing;
}

/** What `fit` returns: the chosen parameters, the training and validation history and the chosen step. */
export interface FitResult {
  /** The parameters with the best validation NLL (the last ones when there is no validation part). */
  readonly params: ParamTree;
  readonly history: { readonly train: readonly TrainRecord[]; readonly validation: readonly ValidationRecord[] };
  /** The step whose parameters are returned. */
  readonly bestStep: number;
  /** Validation NLL (nats per sample) of the returned parameters; undefined without a validation part. */
  readonly validationNll: number | undefined;
  /** Training-set NLL (nats per sample) of the returned parameters. */
  readonly trainNll: number;
  /** Steps run (at most `steps`). */
  readonly steps: number;
  readonly stoppedEarly: boolean;
  readonly skipped: number;
  readonly trainRows: number;
  readonly validationRows: number;
  /** Which rows of the data (indices along axis 0) were trained on and which validated on: disjoint, all rows between them. */
  readonly split: RowSplit;
}

/** Indices of the data's rows (axis 0) in each part of fit's split. */
export interface RowSplit {
  readonly train: Int32Array;
  readonly validation: Int32Array;
}

/** fit's default number of validation rows out of n: 20%, at least min(100, n/2), at most 10,000. */
export const defaultValidationRows = (n: number): number => Math.min(10_000, Math.max(Math.round(0.2 * n), Math.min(100, Math.floor(n / 2))));

/** The learning rate of each 1-based step fit takes (see FitOptions.schedule). */
const fitLearningRate = (lr: number | ((step: number) => number), schedule: 'cosine' | 'constant', warmup: number, steps: number): ((step: number) => number) =>
  typeof lr === 'function' ? lr : schedule === 'constant' ? () => lr : (step) => cosineLearningRate(step, { base: lr, warmup, steps });

const positiveInt = (name: string, v: number): number => {
  if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
};

const copyParams = (p: ParamTree): ParamTree => mapParams(p, (t) => tf.clone(t));

const trainableOf = (dist: DistributionSpec, what: string): Set<string> => {
  const trainable = new Set(distributionParamInfo(dist).filter((p) => p.trainable).map((p) => p.path));
  if (trainable.size === 0) throw new TypeError(`${what}: the distribution has no trainable parameters (a standard normal alone has none)`);
  return trainable;
};

/** A seeded permutation of 0..n-1, as an index tensor's data. */
const permutation = (n: number, random: () => number): Int32Array => Int32Array.from(shuffledIndices(n, random));

const splitWith = (n: number, validationRows: number, random: () => number): RowSplit => {
  const order = permutation(n, random);
  return { validation: order.slice(0, validationRows), train: order.slice(validationRows) };
};

/** The split `fit` makes of n rows with `validationRows` held out and this seed (the same rows, in the same order). */
export const splitRows = (n: number, validationRows: number, seed: number): RowSplit => splitWith(n, validationRows, seededRandom(seed));

/** Gathers rows (axis 0) of each tensor. */
export const gatherRows = (ts: readonly tf.Tensor[], idx: Int32Array): tf.Tensor[] =>
  tf.tidy(() => {
    const i = tf.tensor1d(idx, 'int32');
    return ts.map((t) => tf.gather(t, i));
  });

const gatherContext = (ctx: Context, idx: Int32Array): Context => {
  const names = Object.keys(ctx);
  const gathered = gatherRows(names.map((n) => ctx[n] as tf.Tensor), idx);
  return Object.fromEntries(names.map((n, i) => [n, gathered[i] as tf.Tensor]));
};

const disposeContext = (ctx: Context): void => Object.values(ctx).forEach((t) => t.dispose());

/** log p of every row, in chunks (one host read per chunk), as float64 numbers for statistics. */
export const logProbRows = (dist: DistributionSpec, params: ParamTree, xs: readonly tf.Tensor[], ctx: Context = {}, chunk = 2048): Float64Array => {
  const n = xs[0]?.shape[0] ?? 0;
  const out = new Float64Array(n);
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const lp = tf.tidy(() => {
      const slice = (t: tf.Tensor): tf.Tensor => tf.slice(t, [start, ...t.shape.slice(1).map(() => 0)], [size, ...t.shape.slice(1)]);
      const c = Object.fromEntries(Object.entries(ctx).map(([k, t]) => [k, slice(t)]));
      return logProbRaw(dist, params, xs.map(slice), c);
    });
    out.set(lp.dataSync(), start);
    lp.dispose();
  }
  return out;
};

/** Mean NLL per sample over all rows, in chunks (one host read per chunk). */
export const meanNll = (dist: DistributionSpec, params: ParamTree, xs: readonly tf.Tensor[], ctx: Context = {}, chunk = 2048): number => {
  const n = xs[0]?.shape[0] ?? 0;
  if (n === 0) return Number.NaN;
  let total = 0;
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const s = tf.tidy(() => {
      const slice = (t: tf.Tensor): tf.Tensor => tf.slice(t, [start, ...t.shape.slice(1).map(() => 0)], [size, ...t.shape.slice(1)]);
      const c = Object.fromEntries(Object.entries(ctx).map(([k, t]) => [k, slice(t)]));
      return tf.sum(tf.neg(logProbRaw(dist, params, xs.map(slice), c)));
    });
    total += (s.dataSync()[0] as number);
    s.dispose();
  }
  return total / n;
};

/** What both fitting loops step: parameters, Adam's moments, the step count, each step's record, the loss window. */
interface Loop {
  params: ParamTree;
  state: AdamState;
  step: number;
  readonly train: TrainRecord[];
  windowLoss: number;
  windowCount: number;
  readonly guard: NaNGuard;
}

const startLoop = (params: ParamTree, maxConsecutiveSkips: number): Loop => ({
  params,
  state: createAdamState(params),
  step: 0,
  train: [],
  windowLoss: 0,
  windowCount: 0,
  guard: new NaNGuard({ maxConsecutive: maxConsecutiveSkips }),
});

/** One Adam step on `loss`: the replaced trees disposed, the step recorded, the loss window and the NaN guard updated. */
const advance = (loop: Loop, loss: (p: ParamTree) => tf.Scalar, options: TrainStepOptions): void => {
  const r = trainStep(loss, loop.params, loop.state, options);
  disposeReplaced(loop.params, r.params);
  disposeReplaced(loop.state, r.state);
  loop.params = r.params;
  loop.state = r.state;
  loop.step += 1;
  loop.train.push({ step: loop.step, loss: r.loss, gradNorm: r.gradNorm, skipped: r.skipped });
  if (!r.skipped) {
    loop.windowLoss += r.loss;
    loop.windowCount += 1;
  }
  loop.guard.record(r);
};

/** The mean loss of the steps taken since the last call (NaN if all were skipped); starts a new window. */
const takeWindow = (loop: Loop): number => {
  const mean = loop.windowCount > 0 ? loop.windowLoss / loop.windowCount : Number.NaN;
  loop.windowLoss = 0;
  loop.windowCount = 0;
  return mean;
};

/** fit's settings for n rows, its defaults filled in and checked (RangeErrors name the option). */
const fitSettings = (n: number, options: Omit<FitOptions<CondShapes>, 'ctx'>) => {
  const steps = positiveInt('fit: steps', options.steps ?? 1000);
  const evalEvery = positiveInt('fit: evalEvery', options.evalEvery ?? 50);
  const { seed = 0, lr = 1e-3, clipNorm = 10, validationFraction, patience = 10, minDelta = 1e-4, initRows = 1024, schedule = 'cosine' } = options;
  if (validationFraction !== undefined && !(validationFraction >= 0 && validationFraction < 1)) throw new RangeError(`fit: validationFraction must be in [0, 1), got ${validationFraction}`);
  if (!(patience >= 1)) throw new RangeError(`fit: patience must be >= 1, got ${patience}`);
  if (schedule !== 'cosine' && schedule !== 'constant') throw new RangeError(`fit: schedule must be 'cosine' or 'constant', got ${JSON.stringify(schedule)}`);
  const warmup = options.warmup ?? Math.min(100, Math.floor(steps / 20));
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new RangeError(`fit: warmup must be an integer >= 0, got ${warmup}`);
  const rate = fitLearningRate(lr, schedule, warmup, steps);
  const nVal = validationFraction === undefined ? defaultValidationRows(n) : Math.floor(n * validationFraction);
  const nTrain = n - nVal;
  if (nTrain < 1) throw new RangeError(`fit: no training rows (${n} rows, validation fraction ${validationFraction})`);
  const batchSize = Math.min(positiveInt('fit: batchSize', options.batchSize ?? 256), nTrain);
  return { steps, evalEvery, seed, clipNorm, patience, minDelta, initRows, rate, nVal, nTrain, batchSize };
};

/** The minibatches of fit (indices into the training rows): consecutive slices of seeded epoch permutations, a new epoch when the rest is short. */
function* minibatches(random: () => number, nTrain: number, batchSize: number): Generator<Int32Array, never> {
  for (;;) {
    const epoch = permutation(nTrain, random);
    for (let cursor = 0; cursor + batchSize <= nTrain; cursor += batchSize) yield epoch.subarray(cursor, cursor + batchSize);
  }
}

/** fit's data-dependent initialisation: `initDistribution` on the first `initRows` training rows. */
const dataDependentInit = (dist: DistributionSpec, trainX: readonly tf.Tensor[], trainCtx: Context, seed: number, initRows: number): ParamTree => {
  const nTrain = trainX[0]?.shape[0] ?? 0;
  const rows = Int32Array.from({ length: Math.min(initRows, nTrain) }, (_, i) => i);
  const initX = gatherRows(trainX, rows);
  const initCtx = gatherContext(trainCtx, rows);
  const params = initDistribution(dist, { seed, data: initX as never, ctx: initCtx as never });
  initX.forEach((t) => t.dispose());
  disposeContext(initCtx);
  return params;
};

/**
 * What another engine needs to run exactly the loop of `fit` (unconditional, likelihood, no averaging
 * or noise): the split, the initial parameters (data-dependent as fit's), each step's minibatch (row
 * indices into the training rows, steps x batch) and learning rate. The caller owns the tensors.
 */
export interface FitPlan {
  readonly split: RowSplit;
  readonly trainX: tf.Tensor;
  readonly valX: tf.Tensor | undefined;
  readonly params: ParamTree;
  readonly batches: Int32Array;
  readonly batchSize: number;
  readonly lrs: Float64Array;
  readonly trainable: readonly string[];
  readonly settings: { readonly steps: number; readonly evalEvery: number; readonly clipNorm: number; readonly patience: number; readonly minDelta: number; readonly maxConsecutiveSkips: number };
}

/** fit's plan (see FitPlan) of `dist` on the rows `data` [n, ...]: the same random streams as `fit` with these options. */
export const fitPlan = (dist: DistributionSpec, data: tf.Tensor, options: Omit<FitOptions<CondShapes>, 'ctx' | 'averaging' | 'noise' | 'objective' | 'params'> = {}): FitPlan => {
  const n = data.shape[0] ?? 0;
  const s = fitSettings(n, options);
  const trainable = trainableOf(dist, 'fit');
  const random = seededRandom(s.seed);
  const split = splitWith(n, s.nVal, random);
  const [trainX] = gatherRows([data], split.train) as [tf.Tensor];
  const valX = s.nVal > 0 ? (gatherRows([data], split.validation)[0] as tf.Tensor) : undefined;
  const params = dataDependentInit(dist, [trainX], {}, s.seed, s.initRows);
  const order = minibatches(random, s.nTrain, s.batchSize);
  const batches = new Int32Array(s.steps * s.batchSize);
  for (let step = 0; step < s.steps; step++) batches.set(order.next().value as Int32Array, step * s.batchSize);
  const lrs = Float64Array.from({ length: s.steps }, (_, i) => s.rate(i + 1));
  return {
    split, trainX, valX, params, batches, batchSize: s.batchSize, lrs, trainable: [...trainable],
    settings: { steps: s.steps, evalEvery: s.evalEvery, clipNorm: s.clipNorm, patience: s.patience, minDelta: s.minDelta, maxConsecutiveSkips: options.maxConsecutiveSkips ?? 10 },
  };
};

/**
 * Maximum-likelihood fit of `dist` to `data` (a batch of events, channels-last, rows along axis 0):
 * see the file comment. Throws a ShapeMismatchError when the data does not have the event shapes.
 */
export const fit = <E extends Shapes, C extends CondShapes>(dist: Distribution<E, C>, data: EventInputs<E>, options: FitOptions<C> = {}): FitResult => {
  const sig = distributionSignature(dist);
  const all = data instanceof tf.Tensor ? [data as tf.Tensor] : [...(data as readonly tf.Tensor[])];
  checkInputs(all, sig.event, 'fit data');
  const n = all[0]?.shape[0] ?? 0;
  const allCtx = (options.ctx ?? {}) as Context;
  for (const name of Object.keys(sig.cond)) {
    const t = allCtx[name];
    if (t === undefined || t.shape[0] !== n) throw new ShapeMismatchError(`fit: the conditioning '${name}' must be given for each of the ${n} rows (options.ctx)`);
  }
  const { steps, evalEvery, seed, clipNorm, patience, minDelta, initRows, rate, nVal, nTrain, batchSize } = fitSettings(n, options);
  const { averaging = 0, noise = 0 } = options;
  if (!(Number.isFinite(noise) && noise >= 0)) throw new RangeError(`fit: noise must be a finite number >= 0, got ${noise}`);
  if (!(averaging >= 0 && averaging < 1)) throw new RangeError(`fit: averaging must be in [0, 1), got ${averaging}`);
  const trainable = trainableOf(dist, 'fit');
  const objective = options.objective ?? 'likelihood';
  if (objective === 'flow-matching') flowMatchingPlan(dist); // refuses a distribution it cannot train, before any work
  // Flow matching's noise and times: a stream of its own, so the split and minibatches match a likelihood fit's.
  const matchingSeeds = seedStream(seed + 7919);
  // A flow with Hutchinson traces trains on fresh probes each step (validation keeps the spec's own).
  const probeSeeds = seedStream(seed + 104_729);
  const lossOf = (p: ParamTree, xb: readonly tf.Tensor[], cb: Context): tf.Scalar =>
    objective === 'flow-matching'
      ? flowMatchingLoss(dist, p, xb, cb, matchingSeeds, options.pairing)
      : (tf.neg(tf.mean(logProbRaw(mapFlows(dist, (flow) => withProbeSeeds(flow, probeSeeds())), p, xb, cb))) as tf.Scalar);

  const random = seededRandom(seed);
  const { train: trainIdx, validation: valIdx } = splitWith(n, nVal, random);
  const trainX = gatherRows(all, trainIdx);
  const trainCtx = gatherContext(allCtx, trainIdx);
  const valX = nVal > 0 ? gatherRows(all, valIdx) : [];
  // Noise regularisation: the training rows' scales once, and a seed stream of its own.
  const noiseScales = noise > 0 ? elementScales(trainX) : [];
  const noiseSeeds = seedStream(seed + 104729);
  const valCtx = nVal > 0 ? gatherContext(allCtx, valIdx) : {};

  const initialParams = (): ParamTree => {
    if (options.params !== undefined) {
      checkDistributionParams(dist, options.params);
      return copyParams(options.params);
    }
    return dataDependentInit(dist, trainX, trainCtx, seed, initRows);
  };
  const loop = startLoop(initialParams(), options.maxConsecutiveSkips ?? 10);
  const validation: ValidationRecord[] = [];
  let best: { params: ParamTree; step: number; nll: number } | undefined;
  let sinceBest = 0;
  const batches = minibatches(random, nTrain, batchSize);
  let stoppedEarly = false;

  // The parameters validated and returned: the last iterate, or its running average.
  let average: ParamTree | undefined = averaging > 0 ? copyParams(loop.params) : undefined;
  let averaged = 0;
  const current = (): ParamTree => average ?? loop.params;
  const evaluate = (): boolean => {
    const nll = nVal > 0 ? meanNll(dist, current(), valX, valCtx) : undefined;
    if (nll !== undefined) validation.push({ step: loop.step, nll });
    let improved = false;
    if (nll !== undefined && Number.isFinite(nll) && (best === undefined || nll < best.nll - minDelta)) {
      if (best !== undefined) disposeParams(best.params);
      best = { params: copyParams(current()), step: loop.step, nll };
      sinceBest = 0;
      improved = true;
    } else if (nll !== undefined) sinceBest += 1;
    options.onProgress?.({
      step: loop.step,
      steps,
      trainLoss: takeWindow(loop),
      validationNll: nll,
      best: best?.nll,
      bestStep: best?.step,
      lr: loop.step > 0 ? rate(loop.step) : undefined,
      skipped: loop.guard.totalSkipped,
      params: loop.params,
    });
    return !improved && sinceBest >= patience;
  };

  try {
    if (nVal > 0) evaluate(); // the initial parameters are a candidate too
    while (loop.step < steps) {
      const idx = batches.next().value as Int32Array;
      const rows = gatherRows(trainX, idx);
      const xb = noise > 0 ? withNoise(rows, noiseScales, noise, noiseSeeds()) : rows;
      if (xb !== rows) rows.forEach((t) => t.dispose());
      const cb = gatherContext(trainCtx, idx);
      try {
        advance(loop, (p) => lossOf(p, xb, cb), { lr: rate, clipNorm, trainable });
        if (average !== undefined && loop.train[loop.train.length - 1]?.skipped === false) {
          const next = updateAverage(average, loop.params, trainable, averaging, ++averaged);
          disposeParams(average);
          average = next;
        }
      } finally {
        xb.forEach((t) => t.dispose());
        disposeContext(cb);
      }
      if (loop.step % evalEvery === 0 || loop.step === steps) {
        if (evaluate()) {
          stoppedEarly = true;
          break;
        }
      }
    }
    const chosen = best ?? { params: current(), step: loop.step, nll: Number.NaN };
    const result: FitResult = {
      params: chosen === best ? chosen.params : copyParams(current()),
      history: { train: loop.train, validation },
      bestStep: chosen.step,
      validationNll: nVal > 0 ? chosen.nll : undefined,
      trainNll: meanNll(dist, chosen.params, trainX, trainCtx),
      steps: loop.step,
      stoppedEarly,
      skipped: loop.guard.totalSkipped,
      trainRows: nTrain,
      validationRows: nVal,
      split: { train: trainIdx, validation: valIdx },
    };
    best = undefined; // handed over
    return result;
  } finally {
    if (best !== undefined) disposeParams(best.params);
    if (average !== undefined) disposeParams(average);
    disposeParams(loop.params);
    disposeParams(loop.state.m);
    disposeParams(loop.state.v);
    [...trainX, ...valX, ...noiseScales].forEach((t) => t.dispose());
    disposeContext(trainCtx);
    disposeContext(valCtx);
  }
};

/** Options of `fitVariational` (reverse KL to an unnormalised target density). */
export interface FitVariationalOptions extends CommonOptions {
  /** Draws per step. Default 256. */
  readonly samples?: number;
}

/** What `fitVariational` returns: the last parameters and the training history. */
export interface FitVariationalResult {
  /** The last parameters. */
  readonly params: ParamTree;
  readonly history: { readonly train: readonly TrainRecord[] };
  /**
   * mean(log q(x) - log p~(x)) over the draws of the last `evalEvery` non-skipped steps: KL(q || p)
   * minus log Z of the target (= -ELBO). For a normalised target it estimates the KL itself.
   */
  readonly loss: number;
  readonly steps: number;
  readonly skipped: number;
}

/**
 * The target of `fitVariational`: an unnormalised log-density per sample [n] of draws (`x` is the
 * first event tensor, `xs` all of them). It must be differentiable in x (it is, written in tf ops).
 */
export type LogDensity<E extends Shapes> = (x: FirstTensorOf<E>, xs: TensorsOf<E>) => tf.Tensor1D;

/**
 * Fits `dist` to an unnormalised target density by minimising the reparameterised reverse KL (see
 * the file comment). Unconditional distributions only.
 */
export const fitVariational = <E extends Shapes>(dist: Distribution<E>, logDensity: LogDensity<E>, options: FitVariationalOptions = {}): FitVariationalResult => {
  const sig = distributionSignature(dist);
  if (Object.keys(sig.cond).length > 0) throw new TypeError('fitVariational: the distribution is conditional; fit one unconditional distribution per context');
  const steps = positiveInt('fitVariational: steps', options.steps ?? 1000);
  const evalEvery = positiveInt('fitVariational: evalEvery', options.evalEvery ?? 50);
  const samples = positiveInt('fitVariational: samples', options.samples ?? 256);
  const { seed = 0, lr = 1e-3, clipNorm = 10 } = options;
  const trainable = trainableOf(dist, 'fitVariational');
  const loop = startLoop(
    options.params !== undefined ? (checkDistributionParams(dist, options.params), copyParams(options.params)) : initDistribution(dist, { seed }),
    options.maxConsecutiveSkips ?? 10,
  );
  const nextSeed = seedStream(seed + 1);
  let lastWindow = Number.NaN;
  const loss = (p: ParamTree, stepSeed: number): tf.Scalar => {
    const { xs, logProb: lq } = sampleRaw(dist, p, samples, seedStream(stepSeed));
    const lp = logDensity(xs[0] as FirstTensorOf<E>, xs as unknown as TensorsOf<E>);
    if (!(lp instanceof tf.Tensor) || lp.rank !== 1 || lp.shape[0] !== samples) {
      throw new TypeError(`fitVariational: logDensity must return one value per draw (shape [${samples}]), got ${lp instanceof tf.Tensor ? formatShapeOf(lp) : typeof lp}`);
    }
    return tf.mean(tf.sub(lq, lp)) as tf.Scalar;
  };
  try {
    while (loop.step < steps) {
      const stepSeed = nextSeed();
      advance(loop, (p) => loss(p, stepSeed), { lr, clipNorm, trainable });
      if (loop.step % evalEvery === 0 || loop.step === steps) {
        lastWindow = takeWindow(loop);
        options.onProgress?.({
          step: loop.step,
          steps,
          trainLoss: lastWindow,
          validationNll: undefined,
          best: undefined,
          bestStep: undefined,
          lr: typeof lr === 'function' ? lr(loop.step) : lr,
          skipped: loop.guard.totalSkipped,
          params: loop.params,
        });
      }
    }
    const result: FitVariationalResult = { params: loop.params, history: { train: loop.train }, loss: lastWindow, steps: loop.step, skipped: loop.guard.totalSkipped };
    loop.params = {};
    return result;
  } finally {
    disposeParams(loop.params);
    disposeParams(loop.state.m);
    disposeParams(loop.state.v);
  }
};

const formatShapeOf = (t: tf.Tensor): string => `[${t.shape.join(',')}]`;
