/**
 * Flow matching against PyTorch: the `cnf` preset of `fit` on two moons (presetFlow('cnf', 2, 2000),
 * wrapped in `standardized` as `fit` wraps it), the same model on both sides (the PyTorch side is the
 * module distributionToPyTorch exports, with this side's parameters). Measured:
 * - one flow-matching training step of 256 rows: typed-flows' flowMatchingLoss + trainStep (gradients,
 *   global-norm clipping at fit's 10, Adam), as `fit --objective flow-matching` takes it, against the
 *   same loss and step written in bench/pytorch/flow_matching.py on the exported module's field;
 * - one sampling pass of 1,000 points with their log p (the preset's solver, RK4 with 16 steps):
 *   sampleAndLogProb against the exported Distribution.sample_and_log_prob.
 * tfjs runs on the backend `selectBackend` picks (wasm in Node: one thread); PyTorch runs in its own
 * process, once on 1 thread and once on 2. Run on its own: `npx tsx bench/flow-matching.ts [--quick]`
 * (prints the figures as JSON), or as section 10 of `npx tsx bench/run.ts --only-flow-matching`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend/index.js';
import { tfjsOps } from '../src/algebra/tfjs.js';
import type { CnfSpec } from '../src/dsl/bijectors/cnf.js';
import { field } from '../src/dsl/maths/vector-field.js';
import { disposeParams, flattenParams, mapParams, type ParamRecord, type ParamTree } from '../src/dsl/params.js';
import { distributionParamInfo, distributionToPyTorch, initDistribution, presetFlow, sampleAndLogProb, standardized, standardNormal, transformed } from '../src/distributions/index.js';
import { flowMatchingLoss } from '../src/distributions/flow-matching.js';
import { seedStream } from '../src/distributions/interpret.js';
import type { DistributionSpec } from '../src/distributions/spec.js';
import { encodeSafetensors } from '../src/io/safetensors.js';
import { createAdamState, disposeReplaced, trainStep } from '../src/training/index.js';
import { busyShare, log, machine, round, timeSync, type Timing } from './common.js';
import { twoMoons } from './density-data.js';
import { ensureTorch, SYSTEM_PYTHON } from './pytorch.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The workload, the same on both sides. */
export const FLOW_MATCHING_SETUP = { rows: 2000, batch: 256, samples: 1000, lr: 1e-3, clipNorm: 10, seed: 0 } as const;

/** One PyTorch run: its thread count and medians. */
export interface TorchFlowMatching {
  readonly threads: number;
  readonly trainStep: Timing;
  readonly sample: Timing;
  /** tfjs / PyTorch, per figure. */
  readonly ratioTrainStep: number;
  readonly ratioSample: number;
}

export interface FlowMatchingResult {
  readonly date: string;
  readonly command: string;
  readonly backend: string;
  readonly setup: typeof FLOW_MATCHING_SETUP & { readonly solver: string; readonly params: number };
  readonly tfjs: { readonly trainStep: Timing; readonly sample: Timing };
  readonly torch: { readonly version?: string; readonly runs: readonly TorchFlowMatching[]; readonly note?: string };
  /** Largest |v_pytorch - v_tfjs| of the field on 256 (x, t): the Python side computes the same field. */
  readonly fieldMaxAbsError?: number;
  /** Share of all CPUs other processes used just before (null: unknown). */
  readonly otherProcessesBusy: number | null;
}

interface TorchOut {
  readonly threads: number;
  readonly field_max_abs_error: number;
  readonly figures: { readonly train_step: Timing; readonly sample: Timing };
}

const cnfOf = (flow: unknown): CnfSpec => {
  const f = flow as { kind: string; steps?: readonly unknown[] };
  const last = f.kind === 'chain' ? f.steps?.[f.steps.length - 1] : f;
  if ((last as { kind?: string } | undefined)?.kind !== 'cnf') throw new TypeError('the cnf preset has no cnf layer');
  return last as CnfSpec;
};

/** One line per figure. */
export const logFlowMatching = (r: FlowMatchingResult): void => {
  log(`bench:   tfjs (${r.backend}): train step ${r.tfjs.trainStep.median_ms.toFixed(2)} ms, sampling ${r.tfjs.sample.median_ms.toFixed(1)} ms`);
  for (const t of r.torch.runs)
    log(`bench:   PyTorch ${r.torch.version ?? ''}, ${t.threads} thread(s): train step ${t.trainStep.median_ms.toFixed(2)} ms (tfjs/PyTorch ${t.ratioTrainStep}x), sampling ${t.sample.median_ms.toFixed(1)} ms (${t.ratioSample}x)`);
  if (r.fieldMaxAbsError !== undefined) log(`bench:   field check: max |v_pytorch - v_tfjs| = ${r.fieldMaxAbsError.toExponential(2)}`);
  if (r.torch.note !== undefined) log(`bench:   PyTorch: ${r.torch.note}`);
};

/** The cnf's parameters inside the standardized distribution's. */
export const cnfParamsOf = (params: ParamTree): ParamTree => ((params as ParamRecord)['base'] as ParamRecord)['flow'] as ParamTree;

/**
 * The `cnf` preset as fit builds it for 2-D rows (standardized over the rows), initialised from `seed`
 * and with its trainable parameters perturbed (normal, std 0.1, from `perturbSeed`): a fresh field's last
 * layer is zero, which would make the field checks vacuous.
 */
export const flowMatchingModel = (rows: tf.Tensor2D, seed: number, perturbSeed: number) => {
  const flow = presetFlow('cnf', 2, rows.shape[0]);
  const cnf = cnfOf(flow);
  const dist = standardized(transformed(standardNormal([2]), flow as never));
  const fresh = initDistribution(dist, { seed, data: rows as never });
  const trainable = new Set(distributionParamInfo(dist).filter((p) => p.trainable).map((p) => p.path));
  const params = mapParams(fresh, (t, path) => tf.tidy(() => (trainable.has(path) ? tf.add(t, tf.randomNormal(t.shape, 0, 0.1, 'float32', perturbSeed)) : tf.clone(t))));
  disposeParams(fresh);
  return { dist, cnf, trainable, params };
};

/** Writes the module distributionToPyTorch exports (dir/model.py) and `params` (dir/params.safetensors). */
export const writeExported = (dir: string, dist: DistributionSpec, params: ParamTree): void => {
  writeFileSync(join(dir, 'model.py'), distributionToPyTorch(dist));
  writeFileSync(
    join(dir, 'params.safetensors'),
    encodeSafetensors(flattenParams(params).map(([p, t]) => [`params.${p}`, { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.dataSync()) }] as const)),
  );
};

/** typed-flows' field v(x, t) at n random points (normal x, uniform t, from `seed`), as nested arrays. */
export const fieldAt = (cnf: CnfSpec, cnfParams: ParamTree, n: number, seed: number) =>
  tf.tidy(() => {
    const x = tf.randomNormal([n, 2], 0, 1, 'float32', seed);
    const t = tf.randomUniform([n, 1], 0, 1, 'float32', seed + 1);
    const v = field(tfjsOps, cnf, cnfParams as never, 2, x, t, undefined, false).velocity;
    return { x: x.arraySync() as number[][], t: t.arraySync() as number[][], v: v.arraySync() as number[][] };
  });

/** Runs the benchmark: tfjs here, PyTorch (1 and 2 threads) in child processes. */
export const runFlowMatching = (quick: boolean, command: string, backend: string, otherProcessesBusy: number | null): FlowMatchingResult => {
  const s = FLOW_MATCHING_SETUP;
  // Fewer sampling passes: one takes hundreds of ms, and seconds on PyTorch's 2 threads when the machine is busy.
  const [warmup, reps, sampleReps] = quick ? [3, 10, 5] : [5, 30, 11];
  const rows = twoMoons.sample(s.rows, s.seed);
  const data = tf.tensor2d(rows);
  const model = flowMatchingModel(data, s.seed, 11);
  const { dist, cnf, trainable } = model;
  let params = model.params;
  const dir = mkdtempSync(join(tmpdir(), 'typed-flows-fm-bench-'));
  try {
    // The same parameters and a field check batch for the PyTorch side.
    writeExported(dir, dist, params);
    const check = fieldAt(cnf, cnfParamsOf(params), 256, 5);
    writeFileSync(join(dir, 'data.json'), JSON.stringify({ rows, check }));

    // tfjs: one step as fit takes it (gather the minibatch, FM loss, trainStep), then a sampling pass.
    let state = createAdamState(params);
    const seeds = seedStream(s.seed + 7919);
    let cursor = 0;
    const trainTiming = timeSync(() => {
      const idx = tf.tensor1d(Int32Array.from({ length: s.batch }, (_, i) => (cursor + i * 7) % s.rows), 'int32');
      cursor = (cursor + 1) % s.rows;
      const xb = tf.gather(data, idx);
      idx.dispose();
      const r = trainStep((p) => flowMatchingLoss(dist, p, [xb], {}, seeds), params, state, { lr: s.lr, clipNorm: s.clipNorm, trainable });
      xb.dispose();
      disposeReplaced(params, r.params);
      disposeReplaced(state, r.state);
      params = r.params;
      state = r.state;
    }, warmup, reps);
    let seed = 0;
    const sampleTiming = timeSync(() => {
      const draw = sampleAndLogProb(dist, params)(s.samples, { seed: seed++ });
      draw.logProb.dataSync();
      tf.dispose([draw.x, draw.logProb]);
    }, warmup, sampleReps);
    disposeParams(state.m);
    disposeParams(state.v);
    const tfjs = { trainStep: trainTiming, sample: sampleTiming };
    const base = {
      date: new Date().toISOString(),
      command,
      backend,
      setup: { ...s, solver: `${cnf.solver.kind}${'steps' in cnf.solver ? ` ${String(cnf.solver.steps)} steps` : ''}`, params: flattenParams(cnfParamsOf(params)).reduce((n, [, t]) => n + t.size, 0) },
      tfjs,
      otherProcessesBusy,
    };

    const torch = ensureTorch((m) => log(m));
    if (!torch.ok) return { ...base, torch: { runs: [], note: torch.note ?? 'no torch' } };
    const runs: TorchFlowMatching[] = [];
    let fieldMaxAbsError: number | undefined;
    for (const threads of [1, 2]) {
      const config = { module: join(dir, 'model.py'), params: join(dir, 'params.safetensors'), data: join(dir, 'data.json'), threads, seed: s.seed, batch: s.batch, samples: s.samples, lr: s.lr, clip_norm: s.clipNorm, warmup, reps, sample_reps: sampleReps };
      const r = spawnSync(SYSTEM_PYTHON, [join(here, 'pytorch', 'flow_matching.py'), JSON.stringify(config)], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
      });
      if (r.status !== 0) return { ...base, torch: { version: torch.version, runs, note: `flow_matching.py failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}` } };
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as TorchOut;
      fieldMaxAbsError = out.field_max_abs_error;
      runs.push({
        threads: out.threads,
        trainStep: out.figures.train_step,
        sample: out.figures.sample,
        ratioTrainStep: round(tfjs.trainStep.median_ms / out.figures.train_step.median_ms),
        ratioSample: round(tfjs.sample.median_ms / out.figures.sample.median_ms),
      });
    }
    return { ...base, torch: { ...(torch.version === undefined ? {} : { version: torch.version }), runs }, ...(fieldMaxAbsError === undefined ? {} : { fieldMaxAbsError }) };
  } finally {
    disposeParams(params);
    data.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
};

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const quick = process.argv.includes('--quick');
  const busy = await busyShare();
  const selection = await selectBackend({ prefer: 'wasm', log: (m) => log(m) });
  const m = machine(selection.name);
  log(`bench: flow matching against PyTorch; backend ${selection.name}; ${m.cpu}, ${m.cores} cores; other processes ${busy === undefined ? '?' : `${(100 * busy).toFixed(0)}%`} busy`);
  const r = runFlowMatching(quick, ['npx tsx bench/flow-matching.ts', ...process.argv.slice(2)].join(' '), selection.name, busy ?? null);
  logFlowMatching(r);
  console.log(JSON.stringify(r));
}
