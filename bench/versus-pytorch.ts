/**
 * Section 2: typed-flows on tfjs against PyTorch CPU (2 threads) on the same workloads:
 * - the coupling-net workload of the design notes: conv3x3 6->128, ReLU, conv1x1 128->128, ReLU,
 *   conv3x3 128->12 on a batch of 16 x 16x16x12, then the affine transform and its log-det (the
 *   library's own affineCoupling, run by the forward interpreter); forward, and forward + backward
 *   (gradients of the NLL w.r.t. the network's parameters);
 * - one CAFLOW training step (caflowStep: dequantisation, joint loss, gradients, clipping, Adam) at
 *   32x32 RGB, 2 scales, depth 2 / 2, hidden 32, batch 8, against bench/pytorch/caflow.py;
 * - sampling: k = 8 samples of one Y, ranked by their log-likelihood;
 * - the CAFLOW training step again in PyTorch, with the module typed-flows exports (caflowToPyTorch)
 *   instead of the hand-written one: exported / hand-written, both in PyTorch.
 * tfjs runs in this process; PyTorch in its own (bench/pytorch/bench.py), which prints medians.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { dequantize } from '../src/caflow/index.js';
import { caflowToPyTorch } from '../src/caflow/pytorch.js';
import { couplingWorkload } from './coupling-setup.js';
import { caflowSmall, caflowTrainer, describeConfig, modelOf, pixelBatch, sampleOnce } from './caflow-setup.js';
import { log, profileKernels, round, timeSync, timeTf, type Profile, type RunSize, type Timing } from './common.js';
import { probeTransposeA, type TransposeProbe } from './hotspots.js';
import { ensureTorch, runTorchBench, type TorchAvailability } from './pytorch.js';

export const COUPLING = { batch: 16, size: 16, channels: 12, hidden: 128, clamp: 2 } as const;
export const SAMPLES_K = 8;

export interface VersusFigure {
  readonly id: string;
  readonly workload: string;
  readonly tfjs: Timing;
  readonly pytorch?: Timing;
  /** tfjs / PyTorch; absent when PyTorch could not run. */
  readonly ratio?: number;
}

export interface VersusResult {
  readonly figures: VersusFigure[];
  readonly torch: TorchAvailability & { readonly threads?: number; readonly runNote?: string };
  /** Parameter counts of both implementations (they must match for the FLOPs to). */
  readonly paramCounts: { readonly coupling: { tfjs: number; pytorch?: number }; readonly caflow: { tfjs: number; pytorch?: number } };
  /** Kernel-by-kernel profile of one CAFLOW training step and of one sampling call (hot spots). */
  readonly profiles: { readonly caflowStep: Profile; readonly caflowSample: Profile };
  /** Filter-gradient products of the workloads timed with transposeA vs an explicit transpose first. */
  readonly transposeProbe: TransposeProbe[];
  /** The exported CAFLOW's training step in PyTorch vs the hand-written one's (absent in runs before it existed). */
  readonly exported?: { readonly exported: Timing; readonly handwritten: Timing; readonly ratio: number; readonly params?: number };
}

const couplingFigures = (size: RunSize): { forward: Timing; forwardBackward: Timing; params: number } => {
  const { xs, nll, dispose } = couplingWorkload(COUPLING);
  const { warmup, reps } = size.cheap;
  const fwd = timeTf(() => [tf.tidy(() => nll(xs))], warmup, reps);
  const fwdBwd = timeTf(
    () =>
      tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => nll(ps))(xs);
        return [value, ...grads];
      }),
    warmup,
    reps,
  );
  const count = xs.reduce((n, t) => n + t.size, 0);
  dispose();
  return { forward: fwd, forwardBackward: fwdBwd, params: count };
};

export interface TorchSide {
  readonly availability: TorchAvailability;
  readonly figures?: Record<string, Timing>;
  readonly shapes: Record<string, unknown>;
  readonly threads?: number;
  readonly runNote?: string;
}

/**
 * The PyTorch half of section 2, in its own process. run.ts calls it before any tfjs work: on a 2-core
 * machine PyTorch's two OpenMP threads are easily slowed by the background threads (GC, wasm tier-up)
 * that a Node process busy with tfjs keeps running for a while.
 */
/** The bench CAFLOW written by caflowToPyTorch, in a temporary folder; its path. */
const exportedModule = (): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'typed-flows-bench-')), 'exported_caflow.py');
  writeFileSync(file, caflowToPyTorch(modelOf(caflowSmall)));
  return file;
};

export const runPytorchSide = (size: RunSize): TorchSide => {
  const availability = ensureTorch(log);
  if (!availability.ok) {
    log(`bench: ${availability.note ?? 'PyTorch unavailable'}`);
    return { availability, shapes: {} };
  }
  const run = runTorchBench(
    {
      threads: 2,
      coupling: { ...COUPLING, ...size.cheap },
      caflow: { ...caflowSmall, ...size.step, exported: exportedModule(), sample: { k: SAMPLES_K, ...size.step } },
    },
    log,
  );
  if (!run.ok) {
    log(`bench: ${run.note}`);
    return { availability, shapes: {}, runNote: run.note };
  }
  return {
    availability,
    figures: Object.fromEntries(Object.entries(run.results.figures).map(([k, v]) => [k, { median_ms: v.median_ms, samples_ms: [...v.samples_ms] }])),
    shapes: run.results.shapes ?? {},
    threads: run.results.threads,
  };
};

const exportedFigure = (figures: Record<string, Timing> | undefined, shapes: Record<string, unknown>): Pick<VersusResult, 'exported'> => {
  const exported = figures?.['caflow_step_exported'];
  const handwritten = figures?.['caflow_step'];
  if (exported === undefined || handwritten === undefined) return {};
  const params = shapes['caflow_exported_params'];
  return { exported: { exported, handwritten, ratio: round(exported.median_ms / handwritten.median_ms, 3), ...(typeof params === 'number' ? { params } : {}) } };
};

export const runVersusPytorch = async (size: RunSize, torchSide: TorchSide): Promise<VersusResult> => {
  const torch = torchSide.availability;
  const torchFigures = torchSide.figures;
  const torchShapes = torchSide.shapes;
  const { runNote, threads } = torchSide;

  log('bench: coupling-net workload (tfjs)');
  const coupling = couplingFigures(size);

  log(`bench: CAFLOW training step and sampling (tfjs), ${describeConfig(caflowSmall)}`);
  const trainer = caflowTrainer(caflowSmall);
  const step = timeSync(() => void trainer.step(), size.step.warmup, size.step.reps);
  const stepProfile = await profileKernels(() => void trainer.step());
  const y = tf.tidy(() => dequantize(pixelBatch(caflowSmall, 1).y, 'center'));
  let seed = 0;
  const sampling = timeTf(() => sampleOnce(trainer.model, trainer.params(), y, SAMPLES_K, seed++), size.step.warmup, size.step.reps);
  const sampleProfile = await profileKernels(() => tf.dispose(sampleOnce(trainer.model, trainer.params(), y, SAMPLES_K, seed++)));
  const caflowParams = trainer.paramCount;
  trainer.dispose();
  y.dispose();
  const transposeProbe = probeTransposeA(size);

  const figure = (id: string, workload: string, tfjs: Timing, torchKey: string): VersusFigure => {
    const pt = torchFigures?.[torchKey];
    return pt === undefined ? { id, workload, tfjs } : { id, workload, tfjs, pytorch: pt, ratio: round(tfjs.median_ms / pt.median_ms, 3) };
  };
  const cw = `coupling net conv3x3 6->128, conv1x1 128->128, conv3x3 128->12 + affine and log-det, batch 16 x 16x16x12`;
  const cf = `CAFLOW ${describeConfig(caflowSmall)}`;
  return {
    figures: [
      figure('coupling_forward', `${cw}: forward`, coupling.forward, 'coupling_forward'),
      figure('coupling_forward_backward', `${cw}: forward + backward`, coupling.forwardBackward, 'coupling_forward_backward'),
      figure('caflow_step', `${cf}: one training step (loss, gradients, clipping, Adam)`, step, 'caflow_step'),
      figure('caflow_sample', `${cf}: sampling, k = ${SAMPLES_K} samples of one Y, ranked`, sampling, 'caflow_sample'),
    ],
    torch: { ...torch, ...(threads === undefined ? {} : { threads }), ...(runNote === undefined ? {} : { runNote }) },
    paramCounts: {
      coupling: { tfjs: coupling.params, ...(typeof torchShapes['coupling_params'] === 'number' ? { pytorch: torchShapes['coupling_params'] } : {}) },
      caflow: { tfjs: caflowParams, ...(typeof torchShapes['caflow_params'] === 'number' ? { pytorch: torchShapes['caflow_params'] } : {}) },
    },
    profiles: { caflowStep: stepProfile, caflowSample: sampleProfile },
    transposeProbe,
    ...exportedFigure(torchFigures, torchShapes),
  };
};
