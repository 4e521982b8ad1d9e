/**
 * Section 6: density estimation, typed-flows against the same flows in plain PyTorch.
 *
 * Data (bench/density-data.ts, fixed seeds): two moons, eight Gaussians, checkerboard, rings (2-D) and
 * an 8-D Gaussian mixture; the same rows are written to a temp file for bench/pytorch/density.py.
 * Flows, the same on both sides: MAF = `layers` x (maskedAutoregressive affine, reverse) and NSF = the
 * same with the rational-quadratic spline transformer, each MADE `hidden` wide (ReLU, natural order).
 * Budget, the same on both sides: `steps` Adam steps of `batch` rows at rate `lr`, global-norm clipping
 * at `clipNorm`, no early stopping. Reported: the held-out NLL (nats per point) after the budget, its
 * gap to the true density's entropy where that is known (exactly for the checkerboard, by Monte Carlo
 * from the true density for the eight Gaussians and the mixture), the median time per step and the wall time of
 * the whole fit. Beside the flows, the baseline of `typed-flows fit`: the best Gaussian mixture by EM
 * (`fitMixtureBaselines`, standardised, k = 1..10 chosen on the last 20% of the training rows, fitted on
 * the first 80%), scored on the same held-out rows.
 * PyTorch runs first, in its own process (2 threads), while this process is idle.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { chain, made, maskedAutoregressive, repeat, reverse, type Flow } from '../src/dsl/index.js';
import { seededRandom, shuffledIndices } from '../src/dsl/random.js';
import { disposeParams, flattenParams } from '../src/dsl/params.js';
import { distributionParamInfo, initDistribution, logProbRaw, meanNll, standardNormal, transformed } from '../src/distributions/index.js';
import { disposeBaselines, fitMixtureBaselines } from '../src/distributions/baselines.js';
import { createAdamState, disposeReplaced, trainStep } from '../src/training/index.js';
import { log, median, round } from './common.js';
import { checkerboard, eightGaussians, entropyEstimate, gaussianMixture, rings, twoMoons, type Rows, type Toy } from './density-data.js';
import { ensureTorch, SYSTEM_PYTHON, type TorchAvailability } from './pytorch.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface DensityBudget {
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly clipNorm: number;
  readonly trainRows: number;
  readonly testRows: number;
  /** Draws of the Monte Carlo entropy estimate. */
  readonly entropySamples: number;
  readonly seed: number;
  /** PyTorch: extra steps timed on one thread after the run (tfjs-wasm in Node runs on one). */
  readonly singleThreadSteps: number;
}

export interface DensityArchitecture {
  readonly layers: number;
  readonly hidden: readonly number[];
  readonly clamp: number;
  readonly bins: number;
  readonly bound: number;
}

export const densityBudget = (quick: boolean): DensityBudget =>
  quick
    ? { steps: 100, batch: 128, lr: 3e-3, clipNorm: 10, trainRows: 5000, testRows: 2000, entropySamples: 20_000, seed: 0, singleThreadSteps: 10 }
    : { steps: 500, batch: 256, lr: 3e-3, clipNorm: 10, trainRows: 20_000, testRows: 10_000, entropySamples: 100_000, seed: 0, singleThreadSteps: 30 };

export const DENSITY_ARCHITECTURE: DensityArchitecture = { layers: 5, hidden: [64, 64], clamp: 2, bins: 8, bound: 4 };

export type DensityFlowName = 'MAF' | 'NSF';
export const DENSITY_FLOWS: readonly DensityFlowName[] = ['MAF', 'NSF'];

/** The benchmark's flows on [d]: `layers` x (autoregressive layer, reverse). */
export const densityFlow = <const D extends number>(d: D, name: DensityFlowName, a: DensityArchitecture = DENSITY_ARCHITECTURE): Flow<readonly [readonly [D]], readonly [readonly [D]]> => {
  const shape = [d] as const;
  const net = made({ hidden: a.hidden, activation: 'relu' });
  const layer =
    name === 'MAF'
      ? maskedAutoregressive(shape, { net, clamp: a.clamp })
      : maskedAutoregressive(shape, { net, transformer: 'spline', bins: a.bins, bound: a.bound });
  return repeat(chain(layer, reverse(shape)), a.layers);
};

export const densityToys = (): Toy[] => [twoMoons, eightGaussians, checkerboard, rings, gaussianMixture({ dims: 8, components: 6, seed: 12 })];

export interface SideFigures {
  /** Mean NLL over the held-out rows after the budget, nats per point. */
  readonly testNll: number;
  /** Mean training loss over the last 50 steps. */
  readonly trainLoss: number;
  /** Median time of one training step (minibatch, loss, gradients, clipping, Adam). */
  readonly msPerStep: number;
  /** PyTorch only: the median step on one thread (a few extra steps after the run). */
  readonly msPerStep1Thread?: number;
  readonly totalSeconds: number;
  readonly params: number;
}

export interface DensityRow {
  readonly dataset: string;
  readonly dims: number;
  readonly flow: DensityFlowName;
  readonly tfjs: SideFigures;
  readonly pytorch?: SideFigures;
  /** tfjs ms per step / PyTorch ms per step. */
  readonly ratio?: number;
}

export interface DensityDataset {
  readonly name: string;
  readonly dims: number;
  readonly description: string;
  /** The true density's entropy (nats): exact, or a Monte Carlo estimate with its standard error. */
  readonly entropy?: { readonly value: number; readonly stderr: number; readonly samples: number; readonly exact: boolean };
  /** Mean -log p_true over the held-out rows (the NLL of a perfect model on them). */
  readonly trueTestNll?: number;
  /** The best Gaussian mixture by EM (absent in results written before it was measured). */
  readonly mixture?: MixtureFigures;
}

/** The Gaussian-mixture baseline of one data set. */
export interface MixtureFigures {
  /** Components chosen on the validation rows. */
  readonly k: number;
  /** Mean NLL over the held-out rows, nats per point. */
  readonly testNll: number;
  /** Wall time of the whole selection: EM for every k = 1..kMax and the validation scores. */
  readonly totalSeconds: number;
  /** Share of the training rows held out to choose k (the rest fit EM). */
  readonly validationShare: number;
}

/** Share of the training rows the mixture baseline holds out to choose k. */
export const MIXTURE_VALIDATION_SHARE = 0.2;

/** The best Gaussian mixture (k = 1..10 by EM, chosen on the last rows of `train`) scored on `test`. */
export const mixtureBaseline = (train: Rows, test: Rows, seed: number): MixtureFigures => {
  const cut = Math.round(train.length * (1 - MIXTURE_VALIDATION_SHARE));
  const fitX = tf.tensor2d(train.slice(0, cut));
  const validationX = tf.tensor2d(train.slice(cut));
  const testX = tf.tensor2d(test);
  const start = performance.now();
  const baselines = fitMixtureBaselines(fitX, validationX, { seed });
  const totalSeconds = (performance.now() - start) / 1000;
  try {
    return { k: baselines.best.k, testNll: meanNll(baselines.best.dist, baselines.best.params, [testX]), totalSeconds, validationShare: MIXTURE_VALIDATION_SHARE };
  } finally {
    disposeBaselines(baselines);
    fitX.dispose();
    validationX.dispose();
    testX.dispose();
  }
};

export interface DensityResult {
  readonly date: string;
  readonly command: string;
  readonly backend: string;
  readonly budget: DensityBudget;
  readonly architecture: DensityArchitecture;
  readonly torch: TorchAvailability & { readonly threads?: number; readonly runNote?: string };
  readonly otherProcessesBusy: number | null;
  readonly datasets: DensityDataset[];
  readonly rows: DensityRow[];
}

interface TorchDensityRow {
  readonly dataset: string;
  readonly flow: DensityFlowName;
  readonly test_nll: number;
  readonly train_loss: number;
  readonly ms_per_step: number;
  readonly ms_per_step_1_thread: number | null;
  readonly total_s: number;
  readonly params: number;
}

const tail = (s: string, n = 400): string => (s.length > n ? `...${s.slice(-n)}` : s);

const runTorchDensity = (
  data: Array<{ name: string; train: Rows; test: Rows }>,
  budget: DensityBudget,
): { ok: true; threads: number; rows: TorchDensityRow[] } | { ok: false; note: string } => {
  const dir = mkdtempSync(join(tmpdir(), 'typed-flows-density-'));
  try {
    const file = join(dir, 'data.json');
    writeFileSync(file, JSON.stringify({ datasets: data }));
    const config = {
      data: file,
      threads: 2,
      flows: DENSITY_FLOWS,
      steps: budget.steps,
      batch: budget.batch,
      lr: budget.lr,
      clip_norm: budget.clipNorm,
      seed: budget.seed,
      single_thread_steps: budget.singleThreadSteps,
      ...DENSITY_ARCHITECTURE,
    };
    const script = join(here, 'pytorch', 'density.py');
    log(`bench: running ${SYSTEM_PYTHON} ${script} (its own process)`);
    const r = spawnSync(SYSTEM_PYTHON, [script, JSON.stringify(config)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, OMP_NUM_THREADS: '2', MKL_NUM_THREADS: '2' },
    });
    if (r.stderr.trim() !== '') for (const line of r.stderr.trim().split('\n')) log(`  [pytorch] ${line}`);
    if (r.error !== undefined || r.status !== 0) return { ok: false, note: `the PyTorch density benchmark failed (${r.error?.message ?? `exit code ${r.status}`}): ${tail(r.stderr.trim())}` };
    const lines = r.stdout.trim().split('\n');
    try {
      const parsed = JSON.parse(lines[lines.length - 1] ?? '') as { threads: number; results: TorchDensityRow[] };
      return { ok: true, threads: parsed.threads, rows: parsed.results };
    } catch {
      return { ok: false, note: `the PyTorch density benchmark printed no JSON: ${tail(r.stdout)}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** A seeded permutation of 0..n-1, as an index tensor's data. */
const permutation = (n: number, random: () => number): Int32Array => Int32Array.from(shuffledIndices(n, random));

/** Trains `flow` on the rows for the budget (no early stopping) and measures it. */
export const trainDensity = (flow: Flow<readonly [readonly [number]], readonly [readonly [number]]>, train: Rows, test: Rows, budget: DensityBudget): SideFigures => {
  const d = train[0]?.length ?? 0;
  const dist = transformed(standardNormal([d]), flow);
  const trainX = tf.tensor2d(train);
  const testX = tf.tensor2d(test);
  let params = initDistribution(dist, { seed: budget.seed });
  let state = createAdamState(params);
  const trainable = new Set(distributionParamInfo(dist).filter((p) => p.trainable).map((p) => p.path));
  const random = seededRandom(budget.seed);
  let order = permutation(train.length, random);
  let cursor = 0;
  const times: number[] = [];
  const losses: number[] = [];
  const start = performance.now();
  try {
    for (let step = 0; step < budget.steps; step++) {
      if (cursor + budget.batch > train.length) {
        order = permutation(train.length, random);
        cursor = 0;
      }
      const t0 = performance.now();
      const xb = tf.tidy(() => tf.gather(trainX, tf.tensor1d(order.subarray(cursor, cursor + budget.batch), 'int32')));
      cursor += budget.batch;
      const r = trainStep((p) => tf.neg(tf.mean(logProbRaw(dist, p, [xb]))) as tf.Scalar, params, state, { lr: budget.lr, clipNorm: budget.clipNorm, trainable });
      xb.dispose();
      disposeReplaced(params, r.params);
      disposeReplaced(state, r.state);
      params = r.params;
      state = r.state;
      losses.push(r.loss);
      times.push(performance.now() - t0);
    }
    const totalSeconds = (performance.now() - start) / 1000;
    const last = losses.slice(-50).filter(Number.isFinite);
    return {
      testNll: meanNll(dist, params, [testX]),
      trainLoss: last.reduce((s, v) => s + v, 0) / last.length,
      msPerStep: median(times),
      totalSeconds,
      params: flattenParams(params).reduce((n, [, t]) => n + t.size, 0),
    };
  } finally {
    disposeParams(params);
    disposeParams(state.m);
    disposeParams(state.v);
    trainX.dispose();
    testX.dispose();
  }
};

const sideOf = (r: TorchDensityRow): SideFigures => ({
  testNll: round(r.test_nll, 5),
  trainLoss: round(r.train_loss, 5),
  msPerStep: round(r.ms_per_step, 4),
  ...(r.ms_per_step_1_thread === null ? {} : { msPerStep1Thread: round(r.ms_per_step_1_thread, 4) }),
  totalSeconds: round(r.total_s, 3),
  params: r.params,
});

export const runDensity = (quick: boolean, command: string, backend: string, otherProcessesBusy: number | null): DensityResult => {
  const budget = densityBudget(quick);
  const toys = densityToys();
  const data = toys.map((toy, i) => ({ name: toy.name, train: toy.sample(budget.trainRows, 100 + i), test: toy.sample(budget.testRows, 200 + i) }));
  const datasets: DensityDataset[] = toys.map((toy, i) => {
    const logDensity = toy.logDensity;
    const entropy =
      toy.exactEntropy !== undefined
        ? { value: toy.exactEntropy, stderr: 0, samples: 0, exact: true }
        : logDensity !== undefined
          ? { ...entropyEstimate(toy, budget.entropySamples, 300 + i), exact: false }
          : undefined;
    const test = data[i]?.test ?? [];
    const trueTestNll = logDensity === undefined ? undefined : round(-test.reduce((s, x) => s + logDensity(x), 0) / test.length, 5);
    const m = mixtureBaseline(data[i]?.train ?? [], test, budget.seed);
    log(`bench:   ${toy.name} Gaussian mixture: k ${m.k}, NLL ${m.testNll.toFixed(3)} (${m.totalSeconds.toFixed(1)} s)`);
    return {
      name: toy.name,
      dims: toy.dims,
      description: toy.description,
      ...(entropy === undefined ? {} : { entropy: { ...entropy, value: round(entropy.value, 5), stderr: round(entropy.stderr, 2) } }),
      ...(trueTestNll === undefined ? {} : { trueTestNll }),
      mixture: { ...m, testNll: round(m.testNll, 5), totalSeconds: round(m.totalSeconds, 3) },
    };
  });

  const availability = ensureTorch(log);
  let torchRows: TorchDensityRow[] = [];
  let threads: number | undefined;
  let runNote: string | undefined;
  if (!availability.ok) log(`bench: ${availability.note ?? 'PyTorch unavailable'}`);
  else {
    log(`bench: density (PyTorch side): ${budget.steps} steps of ${budget.batch} on ${toys.length} data sets x ${DENSITY_FLOWS.join(', ')}`);
    const r = runTorchDensity(data, budget);
    if (r.ok) {
      torchRows = r.rows;
      threads = r.threads;
    } else {
      runNote = r.note;
      log(`bench: ${r.note}`);
    }
  }

  const rows: DensityRow[] = [];
  for (const [i, toy] of toys.entries()) {
    const ds = data[i] as { train: Rows; test: Rows };
    for (const name of DENSITY_FLOWS) {
      const figures = trainDensity(densityFlow(toy.dims, name), ds.train, ds.test, budget);
      const tfjs: SideFigures = { ...figures, testNll: round(figures.testNll, 5), trainLoss: round(figures.trainLoss, 5), msPerStep: round(figures.msPerStep, 4), totalSeconds: round(figures.totalSeconds, 3) };
      const pt = torchRows.find((t) => t.dataset === toy.name && t.flow === name);
      const pytorch = pt === undefined ? undefined : sideOf(pt);
      const row: DensityRow = {
        dataset: toy.name,
        dims: toy.dims,
        flow: name,
        tfjs,
        ...(pytorch === undefined ? {} : { pytorch, ratio: round(tfjs.msPerStep / pytorch.msPerStep, 3) }),
      };
      log(`bench:   ${toy.name} ${name}: NLL typed-flows ${tfjs.testNll.toFixed(3)}${pytorch ? `, PyTorch ${pytorch.testNll.toFixed(3)}` : ''}; ${tfjs.msPerStep.toFixed(2)} ms/step${pytorch ? ` vs ${pytorch.msPerStep.toFixed(2)}, ratio ${row.ratio}x` : ''}`);
      rows.push(row);
    }
  }
  return {
    date: new Date().toISOString(),
    command,
    backend,
    budget,
    architecture: DENSITY_ARCHITECTURE,
    torch: { ...availability, ...(threads === undefined ? {} : { threads }), ...(runNote === undefined ? {} : { runNote }) },
    otherProcessesBusy,
    datasets,
    rows,
  };
};
