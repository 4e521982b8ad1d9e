/**
 * Writes the results of a benchmark run: bench/results.json (everything, raw samples included) and
 * docs/performance.md (the whole file: what is measured, how, the tables, and what they mean).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendAttempt } from '../src/backend/index.js';
import type { LoadSnapshot, Machine, Profile, RunSize, Timing } from './common.js';
import type { DensityResult, MixtureFigures } from './density.js';
import type { EnginesResult } from './onnx.js';
import type { OverheadResult } from './dsl-overhead.js';
import type { ScalingResult } from './scaling.js';
import type { VersusResult } from './versus-pytorch.js';
import type { PairFigure, WasmGradientsResult } from './wasm-gradients.js';
import type { WasmKernelsResult } from './wasm-kernels.js';
import type { StartupResult } from './startup.js';
import type { TrainEngineResult } from './train-engine.js';
import type { FlowMatchingResult } from './flow-matching.js';
import { writeFigure } from '../src/node/figure.js';
import { scalingSpec, type ScalingPoint as ScalingFigurePoint } from '../src/plots/bench-scaling.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

export interface BenchResults {
  date: string;
  command: string;
  quick: boolean;
  repetitions: Pick<RunSize, 'cheap' | 'step' | 'sweep'>;
  machine: Machine;
  backend: { name: string; tried: BackendAttempt[] };
  durationSeconds: number;
  /** Every ratio of the run in one place (details and raw samples in the sections below). */
  ratios?: Record<string, number | null>;
  /** Machine load around the run (other processes, hypervisor steal): context for noisy numbers. */
  load: {
    start: LoadSnapshot;
    end: LoadSnapshot;
    /** Share of all CPUs used by other processes, sampled for 1 s before each section (null: unknown). */
    otherProcessesBusy: Record<string, number | null>;
    waitedForIdleSeconds: number;
  };
  dslOverhead: OverheadResult;
  versusPytorch: VersusResult;
  scaling: ScalingResult;
  /** Section 4 (wasm conv gradients, Inv1x1 cache); absent in results written before it existed. */
  wasmGradients?: WasmGradientsResult;
  /** Section 5 (wasm's own kernels vs typed-flows'); absent in results written before it existed. */
  wasmKernels?: WasmKernelsResult;
  /** Section 7 (ONNX Runtime vs PyTorch vs tfjs, inference); absent in results written before it existed. */
  engines?: EnginesResult & { readonly date: string; readonly command: string };
  /** Section 6 (density estimation against PyTorch); absent in results written before it existed. */
  density?: DensityResult;
  /** Section 8 (start-up of the command line); absent in results written before it existed. */
  startup?: StartupResult;
  trainEngine?: TrainEngineResult;
  /** Section 10 (a flow-matching step and a sampling pass against the exported PyTorch module); absent in results written before it existed. */
  flowMatching?: FlowMatchingResult;
}

/** Threaded / single-threaded ratios from the last `npx tsx bench/wasm-threads.ts` (bench/wasm-threads.json), if any. */
const threadRatios = (): { coupling: number; step: number } | undefined => {
  const path = join(here, 'wasm-threads.json');
  if (!existsSync(path)) return undefined;
  const figures = (JSON.parse(readFileSync(path, 'utf8')) as { figures?: Array<{ workload: string; ratio: number }> }).figures ?? [];
  const of = (w: string): number | undefined => figures.find((f) => f.workload === w)?.ratio;
  const coupling = of('coupling');
  const step = of('step');
  return coupling === undefined || step === undefined ? undefined : { coupling, step };
};

const ms = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const mib = (b: number | null | undefined): string => (b === null || b === undefined ? '–' : (b / 2 ** 20).toFixed(0));
const ratio = (r: number | undefined, digits = 2): string => (r === undefined || !Number.isFinite(r) ? '–' : `${r.toFixed(digits)}×`);
const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
const seconds = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : x >= 10 ? x.toFixed(0) : x.toFixed(1));
/** "median (min–max)" of a timing. */
const spread = (t: Timing | undefined): string =>
  t === undefined ? '–' : `${ms(t.median_ms)} (${ms(Math.min(...t.samples_ms))}–${ms(Math.max(...t.samples_ms))})`;

/** Wall time of a profiled call not spent inside any kernel: JS work between kernels. */
const outsideKernels = (p: Profile): number => Math.max(0, p.wall_ms - p.kernel_ms);

const profileTables = (p: Profile, title: string, jsWork: string): string[] => {
  return [
    `**${title}**: ${ms(p.wall_ms)} ms wall time under the profiler, ${p.kernelCalls} kernel calls summing to ${ms(p.kernel_ms)} ms, so about ` +
      `${ms(outsideKernels(p))} ms (${pct(outsideKernels(p) / p.wall_ms)}) is spent outside kernels (${jsWork}). ` +
      `The tf.customGrad forward scopes (conv2dSame, logAbsDet) took ${ms(p.customGradScopes.ms)} ms in ${p.customGradScopes.calls} calls, nested kernels included. ` +
      `Peak tensor memory ${mib(p.peakBytes)} MiB.`,
    '',
    '| where kernel time goes | calls | ms | share |',
    '| --- | ---: | ---: | ---: |',
    ...p.categories.map((c) => `| ${c.kernel} | ${c.calls} | ${ms(c.ms)} | ${pct(c.share)} |`),
    '',
    '| kernel | calls | ms | share |',
    '| --- | ---: | ---: | ---: |',
    ...p.byKernel.slice(0, 8).map((c) => `| ${c.kernel} | ${c.calls} | ${ms(c.ms)} | ${pct(c.share)} |`),
    '',
    'Most expensive single calls:',
    '',
    '| kernel | ms | inputs | output |',
    '| --- | ---: | --- | --- |',
    ...p.topCalls.slice(0, 6).map((c) => `| ${c.kernel} | ${ms(c.ms)} | ${c.inputShapes} | ${c.outputShapes} |`),
    '',
  ];
};

const pairRow = (f: PairFigure): string =>
  `| ${f.workload} | ${spread(f.timeA)} | ${spread(f.timeB)} | ${ratio(f.ratio)} | ${ratio(f.pairedRatio)} |`;

const pairTable = (a: string, b: string, rows: readonly PairFigure[]): string[] => [
  `| workload | ${a} (ms) | ${b} (ms) | ratio | paired ratio |`,
  '| --- | ---: | ---: | ---: | ---: |',
  ...rows.map(pairRow),
];

const wasmGradientsSection = (w: WasmGradientsResult): string[] => {
  const range = (fs: readonly PairFigure[]): string => {
    const rs = fs.map((f) => f.ratio);
    return `${ratio(Math.min(...rs))}–${ratio(Math.max(...rs))}`;
  };
  const s = w.sampling;
  return [
    '## 4. On wasm: plain conv2d gradients and the Inv1x1 cache',
    '',
    `Measured separately (${w.date}, \`${w.command}\`), on \`wasm\`, ${w.repetitions.cheap.reps} repetitions for the convolutions and`,
    `${w.repetitions.step.reps} for sampling, each pair interleaved; times are the median (fastest–slowest), "paired" the median of per-pair ratios.`,
    ...(w.otherProcessesBusy !== null && w.otherProcessesBusy >= 0.1
      ? [`Other processes used ${pct(w.otherProcessesBusy)} of the CPUs just before: the milliseconds are inflated, the ratios within a pair less so.`]
      : []),
    '',
    'tfjs-backend-wasm has no Conv2DBackpropFilter kernel, so `tf.grad` through a plain `tf.conv2d` failed there, and its',
    'Conv2DBackpropInput is slow. `selectBackend` now registers a filter gradient (`src/backend/wasm-conv-gradients.ts`:',
    'a batch/channel-swapped convolution, or one matMul per kernel tap) and puts a composed input gradient (kernel flip, then the XNNPACK forward',
    "convolution) in front of wasm's own, which still serves strides > 1 and NCHW. Wasm's own input gradient against the",
    'composed one, kernel by kernel, at the shapes of the coupling-net layers of section 2:',
    '',
    ...pairTable('native', 'composed', w.inputKernel),
    '',
    `The native input gradient takes ${range(w.inputKernel)} the time of the composed one. With both kernels registered, the`,
    'gradient w.r.t. input and kernel of sum(conv(x, K) · w) by plain `tf.conv2d` against `conv2dSame`',
    '(`src/layers/ops.ts`, whose custom gradient computes the same two products):',
    '',
    ...pairTable('tf.conv2d', 'conv2dSame', w.convGradients),
    '',
    `Plain \`tf.conv2d\` takes ${range(w.convGradients)} the time of \`conv2dSame\`: a user's own conv layers train on wasm as fast`,
    'as the library\'s.',
    '',
    `Sampling as in section 2, with the Inv1x1 float64 cache of \`src/dsl/maths/channel-mix.ts\` off and on. Per`,
    `sampling call the cache saves ${s.work.off.reads} read-backs of a weight to JS, ${s.work.off.slogdets} slogdets and ${s.work.off.inverses} inverses (warm cache: ${s.work.on.reads}, ${s.work.on.slogdets}, ${s.work.on.inverses}):`,
    '',
    ...pairTable('cache off', 'cache on', [s]),
    '',
    'The cache is keyed by the weight tensor object (tfjs tensors are immutable), so it only helps when the same params are',
    'used again (sampling, forward then inverse); a training step makes new param tensors and misses.',
    '',
  ];
};

const nll = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3));
const signed = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`);

const densitySection = (d: DensityResult): string[] => {
  const b = d.budget;
  const a = d.architecture;
  const torchOk = d.rows.some((r) => r.pytorch !== undefined);
  const entropyOf = (name: string): number | undefined => d.datasets.find((s) => s.name === name)?.entropy?.value;
  const mixtureOf = (name: string): MixtureFigures | undefined => d.datasets.find((s) => s.name === name)?.mixture;
  return [
    '## 6. Density estimation against PyTorch',
    '',
    `Measured separately (${d.date}, \`${d.command}\`), on \`${d.backend}\`; PyTorch ${d.torch.version ?? '(not available)'} CPU,`,
    `${d.torch.threads ?? 2} threads, in its own process (\`bench/pytorch/density.py\`, run first). The same flows on both sides:`,
    `**MAF** = ${a.layers} × (\`maskedAutoregressive\` with the affine transformer, clamp ${a.clamp}, then \`reverse\`), **NSF** = the same with`,
    `the rational-quadratic spline transformer (${a.bins} bins on [−${a.bound}, ${a.bound}], identity tails); every MADE has hidden layers`,
    `[${a.hidden.join(', ')}] (ReLU, natural order) and a zero output layer, so both start as the identity. The same budget on both sides:`,
    `${b.steps} Adam steps of ${b.batch} rows, lr ${b.lr}, global-norm clipping at ${b.clipNorm}, no early stopping; ${b.trainRows.toLocaleString('en-US')} training`,
    `and ${b.testRows.toLocaleString('en-US')} held-out rows per data set, generated in TypeScript from fixed seeds (\`bench/density-data.ts\`) and`,
    'written to a temp file for PyTorch. Initialisation and minibatch order come from each side\'s own generator.',
    'Unlike the workloads of section 2, these PyTorch flows are ports: given the same parameters they compute the same',
    'log p as typed-flows (`test/project/bench-density.test.ts`), so the NLLs compare the two implementations\' training, not two models.',
    ...(d.otherProcessesBusy !== null && d.otherProcessesBusy >= 0.1
      ? ['', `Other processes used ${pct(d.otherProcessesBusy)} of the CPUs just before: the milliseconds are inflated, the NLLs are not.`]
      : []),
    ...(torchOk ? [] : ['', `PyTorch did not run (${d.torch.note ?? d.torch.runNote ?? 'unavailable'}): typed-flows' side only.`]),
    '',
    'Held-out NLL in nats per point (lower is better); "gap" is the NLL minus the true density\'s entropy H, where the',
    'density is known (the KL divergence from the truth to the model, up to the held-out sampling error):',
    '',
    '| data | flow | H (true) | typed-flows NLL | gap | PyTorch NLL | gap | Gaussian mixture NLL (k) | typed-flows ms/step | PyTorch ms/step | ratio | PyTorch, 1 thread | whole fit (s): typed-flows | PyTorch | mixture |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...d.rows.map((r) => {
      const h = entropyOf(r.dataset);
      const gap = (x: number | undefined): string => (h === undefined || x === undefined ? '–' : signed(x - h));
      const m = mixtureOf(r.dataset);
      return `| ${r.dataset} | ${r.flow} | ${nll(h)} | ${nll(r.tfjs.testNll)} | ${gap(r.tfjs.testNll)} | ${nll(r.pytorch?.testNll)} | ${gap(r.pytorch?.testNll)} | ${m === undefined ? '–' : `${nll(m.testNll)} (${m.k})`} | ${ms(r.tfjs.msPerStep)} | ${ms(r.pytorch?.msPerStep)} | ${ratio(r.ratio)} | ${ms(r.pytorch?.msPerStep1Thread)} | ${seconds(r.tfjs.totalSeconds)} | ${seconds(r.pytorch?.totalSeconds)} | ${seconds(m?.totalSeconds)} |`;
    }),
    '',
    'The data sets and how H is known:',
    '',
    '| data | D | what | H | mean −log p_true on the held-out rows |',
    '| --- | ---: | --- | --- | ---: |',
    ...d.datasets.map(
      (s) =>
        `| ${s.name} | ${s.dims} | ${s.description} | ${s.entropy === undefined ? 'unknown' : s.entropy.exact ? `${s.entropy.value.toFixed(3)} (exact: log 8)` : `${s.entropy.value.toFixed(3)} ± ${s.entropy.stderr.toFixed(3)} (Monte Carlo, ${s.entropy.samples.toLocaleString('en-US')} draws)`} | ${nll(s.trueTestNll)} |`,
    ),
    '',
    ...(d.datasets.some((s) => s.mixture !== undefined)
      ? [
          'The Gaussian mixture is the baseline `typed-flows fit` reports (`fitMixtureBaselines`: full covariances by EM, standardised,',
          `k = 1..10 fitted on the first ${pct(1 - (d.datasets[0]?.mixture?.validationShare ?? 0))} of the training rows and chosen on the last ${pct(d.datasets[0]?.mixture?.validationShare ?? 0)}), scored on the same held-out`,
          'rows; it belongs to the data set, so both flows\' rows repeat it. "Whole fit" is wall time: all training steps of a flow',
          '(each side timed in its own process, the held-out score not included), every k\'s EM and validation score for the mixture.',
          '',
        ]
      : []),
    'Time per step is the median over the run of one training step: minibatch gather, log-likelihood, gradients,',
    `clipping, Adam, and reading the loss back. Ratio = typed-flows / PyTorch on ${d.torch.threads ?? 2} threads (lower is better for typed-flows).`,
    `The last column is PyTorch's step on one thread (the median of ${b.singleThreadSteps} more steps after the run), as tfjs-wasm in Node runs on one;`,
    'on a loaded machine it is noisy (fewer steps, timed last).',
    `Parameter counts agree on both sides (${[...new Set(d.rows.map((r) => `${r.flow} ${r.dims}-D: ${r.tfjs.params.toLocaleString('en-US')}${r.pytorch !== undefined && r.pytorch.params !== r.tfjs.params ? ` vs ${r.pytorch.params.toLocaleString('en-US')}` : ''}`))].join(', ')}).`,
    '',
  ];
};

const enginesSection = (e: NonNullable<BenchResults['engines']>): string[] => [
  '## 7. ONNX Runtime vs PyTorch vs tfjs (inference)',
  '',
  `Measured ${e.date} (\`${e.command}\`) on ${e.cpu}, ${e.cores} cores. The same inference workloads on three engines: ONNX Runtime ${e.onnxRuntime}`,
  `(onnxruntime-node, CPU execution provider, one thread per core) running the models exported by \`toOnnx\` / \`caflowToOnnx\``,
  `(docs/export.md); PyTorch ${e.torch.version ?? '(not available)'} CPU, ${e.torch.threads ?? 2} threads, in its own process (\`bench/pytorch/bench.py\`, \`engines\`,`,
  'under `torch.no_grad`, run first); and the tfjs interpreters on `' + e.tfjsBackend + '`. CAFLOW is the section-2 model after',
  'data-dependent initialisation; the Glow block is initialised on its input batch. PyTorch\'s 1x1 convolution computes',
  'log|det W| on every call, while the exported graphs carry it (and W⁻¹) as constants computed at export.',
  ...(e.torch.note === undefined ? [] : ['', `PyTorch: ${e.torch.note}`]),
  ...(e.otherProcessesBusy !== null && e.otherProcessesBusy >= 0.1 ? ['', `Other processes used ${pct(e.otherProcessesBusy)} of the CPUs just before: the milliseconds are inflated.`] : []),
  '',
  `| workload | ONNX Runtime (ms) | PyTorch (ms) | tfjs-${e.tfjsBackend} (ms) | ONNX Runtime / PyTorch | tfjs / ONNX Runtime |`,
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...e.figures.map(
    (f) => `| ${f.workload} | ${spread(f.onnx)} | ${spread(f.pytorch)} | ${spread(f.tfjs)} | ${ratio(f.onnxVsPytorch)} | ${ratio(f.tfjsVsOnnx)} |`,
  ),
  '',
  `Medians, with the fastest and slowest timed run in brackets. Glow block parameters: ${e.glowParams.tfjs.toLocaleString('en-US')} (typed-flows)` +
    (e.glowParams.pytorch === undefined ? '.' : `, ${e.glowParams.pytorch.toLocaleString('en-US')} (PyTorch).`),
];

const wasmKernelsSection = (w: WasmKernelsResult): string[] => {
  const [step, sampling] = w.caflow;
  return [
    "## 5. On wasm: tfjs-backend-wasm's own kernels against typed-flows'",
    '',
    `Measured in this run (${w.date}), on \`wasm\`, ${w.repetitions.cheap.reps} repetitions per kernel and for Adam, ${w.repetitions.step.reps} for the`,
    'CAFLOW step and sampling, each pair interleaved (`useStockWasmKernels` swaps the registrations before every call).',
    '',
    '`selectBackend` (through `registerWasmKernels`, src/backend/wasm-kernels.ts) puts these in front of wasm\'s own: Slice and',
    'SplitV that copy only what they return (wasm\'s read the whole input out of the heap first); Concat without a typed-array',
    'object per row; Identity, and Cast to the same dtype, that share the data instead of copying it (tfjs clones every',
    'tensor it saves for the backward pass); BatchMatMul that lays a transposed operand out first (wasm multiplies',
    'transposed operands on a slow path, and every matMul gradient has one); and the conv gradient kernels of section 4.',
    'Each is checked against the cpu backend in test/wasm-*.test.ts. Kernel by kernel:',
    '',
    ...pairTable("wasm's own", "typed-flows'", w.kernels),
    '',
    'Adam: the update of all parameters as tensor ops on one joined vector (joins and splits of ~200 tensors, 14 elementwise',
    'ops) against one fused kernel that reads p, m, v and the gradient once and writes the new tensors (src/training/adam-kernel.ts):',
    '',
    ...pairTable('tensor ops', 'fused kernel', [w.adam]),
    '',
    'All of it together, on the section-2 CAFLOW workloads (a: every replaced kernel stock and Adam as tensor ops):',
    '',
    ...pairTable('stock', 'typed-flows', w.caflow),
    '',
    ...(step !== undefined && sampling !== undefined
      ? [
          `What it means: with tfjs-backend-wasm's own kernels a training step takes ${ratio(step.ratio)} and sampling ${ratio(sampling.ratio)} the time they take`,
          'with the kernels typed-flows registers; the conv gradients (section 4) are not part of this comparison, because',
          '`conv2dSame` carries its own gradient either way.',
        ]
      : []),
    '',
  ];
};

/** Title, how to run, and the machine and load of this run. */
const headerSection = (r: BenchResults): string[] => {
  const m = r.machine;
  const v = r.versusPytorch;
  const torchLine = v.torch.ok
    ? `PyTorch ${v.torch.version} (Debian's python3-torch, CPU, ${v.torch.threads ?? 2} threads, /usr/bin/python3${v.torch.installed ? '; installed by this run' : ''})`
    : `PyTorch: not available (${v.torch.note ?? v.torch.runNote ?? 'unknown reason'})`;
  const busiest = Math.max(
    0,
    ...Object.values(r.load.otherProcessesBusy).map((b) => b ?? 0),
    ...r.scaling.points.map((p) => p.otherProcessesBusy ?? 0),
  );
  return [
    '# Performance',
    '',
    '<!-- Written by bench/run.ts (`npm run bench`); edits here are overwritten by the next run. -->',
    '',
    'What typed-flows costs, measured by its benchmark suite (`bench/`). Every figure is a **ratio measured in one run**:',
    "this project's time divided by the other implementation's time on the same machine (lower is better; 1.00× is parity),",
    `each time the median of several repetitions after warm-up (here: ${r.repetitions.cheap.reps} for the small workloads, ${r.repetitions.step.reps} for CAFLOW steps and sampling, ${r.repetitions.sweep.reps} per scaling point).`,
    'The raw samples of every figure are in `bench/results.json`. Benchmarks are not tests: nothing asserts on these numbers.',
    "PyTorch's warm-up lasts until its time per call has settled (at least a second, and the last calls as fast as the",
    'fastest so far; `bench/pytorch/timing.py`), and both coupling passes are warmed before the first is timed: with a',
    'fixed three-call warm-up, one run measured the coupling forward pass (22.6 ms) slower than the forward + backward',
    'timed after it (13.9 ms). Figures made before this change (the tables below) used the fixed warm-up.',
    '',
    '```sh',
    'npm run bench              # everything, under ~15 minutes on a 2-core machine (section 6 about 6 of them)',
    'npx tsx bench/run.ts --quick   # fewer repetitions, smaller sweeps, a smaller density budget',
    'npx tsx bench/run.ts --only-density   # section 6 alone, merged into bench/results.json',
    'npx tsx bench/run.ts --wait-idle   # before each section, wait until other processes leave the CPUs alone',
    '```',
    '',
    'The run selects the tfjs backend with `selectBackend` (the best that loads: node-gpu, node, wasm, cpu; force one with',
    '`TYPED_FLOWS_BACKEND`), times PyTorch in its own process (`/usr/bin/python3 bench/pytorch/bench.py`, which prints JSON of',
    "medians; when `import torch` fails there it runs `apt-get update && apt-get install -y python3-torch` first, and if that",
    'fails the PyTorch ratios are skipped with a note), and rewrites this file and `bench/results.json`.',
    '',
    `## This run`,
    '',
    '| | |',
    '| --- | --- |',
    `| date | ${r.date} (${r.command}, ${r.durationSeconds} s) |`,
    `| CPU | ${m.cpu}, ${m.cores} cores (${m.platform}) |`,
    `| Node | ${m.node} |`,
    `| tfjs | ${m.tfjs}, backend \`${m.backend}\`${m.backendNotes ? ` (${m.backendNotes})` : ''} |`,
    `| other | ${torchLine} |`,
    `| load | load average ${r.load.start.loadavg.join(' / ')} at the start, ${r.load.end.loadavg.join(' / ')} at the end${
      r.load.start.stealSeconds !== null && r.load.end.stealSeconds !== null
        ? `; CPU time stolen by the hypervisor during the run: ${(r.load.end.stealSeconds - r.load.start.stealSeconds).toFixed(1)} s`
        : ''
    } |`,
    `| other processes | ${Object.entries(r.load.otherProcessesBusy)
      .map(([k, b]) => `${b === null ? '?' : pct(b)} of the CPUs before ${k}`)
      .join(', ')}; at most ${pct(Math.max(0, ...r.scaling.points.map((p) => p.otherProcessesBusy ?? 0)))} before a scaling point${
      r.load.waitedForIdleSeconds > 0 ? ` (the run waited ${r.load.waitedForIdleSeconds} s in all for the machine to go idle)` : ''
    } |`,
    '',
    ...(busiest >= 0.1
      ? [
          `> **Warning**: other processes were using up to ${pct(busiest)} of the CPUs during this run, so the figures below are`,
          '> distorted (PyTorch\'s two threads suffer most on a 2-core machine). Re-run on an idle machine (`--wait-idle` waits for one).',
          '',
        ]
      : []),
  ];
};

/** Section 1: interpreters vs the same computation hand-written in tfjs. */
const dslOverheadSection = (r: BenchResults): string[] => {
  const d = r.dslOverhead;
  const fw = d.forward;
  const fb = d.forwardBackward;
  return [
    '## 1. DSL overhead: interpreters vs the same computation hand-written in tfjs',
    '',
    `Workload: a Glow level, \`chain(squeeze([3,32,32]), repeat(step([12,16,16]), 8))\` with step = [ActNorm, Inv1x1,`,
    'AffineCoupling(convNet hidden 64)], on a batch of 8, and its negative log-likelihood. The interpreted version runs the spec',
    'through `forward` (rebuilding the params tree from the flat tensor list each call, as `trainStep` does). The hand-written',
    "version is one plain function over the same flat list with the same ops: `conv2dSame` from `src/layers/ops.ts` (custom",
    'gradient), `logAbsDet` from `src/dsl/maths/channel-mix.ts` (custom gradient), the same squeeze, ActNorm, soft',
    'clamp and prior. Forward+backward is `tf.valueAndGrads` w.r.t. all parameter tensors. The two are timed interleaved',
    '(alternating which goes first); "paired" is the median of the per-pair ratios.',
    '',
    '| workload | interpreters (ms) | hand-written (ms) | ratio | paired ratio |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| forward (NLL) | ${ms(fw.dsl.median_ms)} | ${ms(fw.hand.median_ms)} | ${ratio(fw.ratio, 3)} | ${ratio(fw.pairedRatio, 3)} |`,
    `| forward + backward | ${ms(fb.dsl.median_ms)} | ${ms(fb.hand.median_ms)} | ${ratio(fb.ratio, 3)} | ${ratio(fb.pairedRatio, 3)} |`,
    '',
    `Same computation: the losses differ by ${d.check.lossDiff.toExponential(1)} and the ${d.check.paramTensors} gradients by at most`,
    `${d.check.maxGradRelDiff.toExponential(1)} (relative to each gradient's largest entry); ${d.check.params.toLocaleString('en-US')} parameters.`,
    '',
    `What it means: the target was a ratio of at most 1.05. Measured: ${ratio(fw.ratio, 3)} forward and ${ratio(fb.ratio, 3)}`,
    `forward+backward, so the target is ${fw.ratio <= 1.05 && fb.ratio <= 1.05 ? 'met' : fw.ratio <= 1.05 || fb.ratio <= 1.05 ? `met for ${fw.ratio <= 1.05 ? 'forward' : 'forward+backward'} only` : 'not met'} in this run.`,
    'The interpreters add a fixed amount of work per node: JS (a switch on the spec kind, the parameter-shape check of',
    '`forward`, the tree rebuild) and a few tiny tensor ops (one AddN of the log-dets per chain, `perSample` broadcasts of the',
    'ActNorm and Inv1x1 log-dets where the hand-written code adds scalars). That cost does not grow with the batch or the',
    'image, so it weighs most on the short forward pass and is lost in the noise of the backward pass.',
    '',
  ];
};

/** Section 2: against PyTorch CPU. */
const pytorchSection = (r: BenchResults): string[] => {
  const m = r.machine;
  const v = r.versusPytorch;
  const ranPytorch = v.figures.some((f) => f.ratio !== undefined);
  const byId = new Map(v.figures.map((f) => [f.id, f]));
  return [
    '## 2. Against PyTorch CPU',
    '',
    'Workloads: (a) the coupling-net workload of the design notes, conv3x3 6→128, ReLU, conv1x1 128→128, ReLU, conv3x3 128→12 on',
    'a batch of 16 × 16×16×12, then the affine transform and its log-det (typed-flows: its own `affineCoupling` through the',
    'interpreter; PyTorch: the same layers in NCHW); forward, and forward + backward of the NLL w.r.t. the net\'s parameters.',
    '(b) One CAFLOW training step (`caflowStep`: dequantisation, joint loss, gradients of all parameters, global-norm',
    'clipping at 1, Adam) at 32×32 RGB, 2 scales, encoder depth 2, conditional depth 2, hidden 32, batch 8. The PyTorch side',
    '(`bench/pytorch/caflow.py`) re-implements the CAFLOW design of docs/caflow.md layer for layer: same layer counts, widths, conditioning',
    'and objective (the run checks the parameter counts are equal). (c) Sampling: k = 8 samples of one Y, ranked by log-likelihood.',
    'PyTorch runs its forward-only timings under `torch.no_grad()`.',
    '',
    'Times are the median, with the fastest and slowest repetition in parentheses.',
    '',
    '| workload | typed-flows (ms) | PyTorch (ms) | ratio |',
    '| --- | ---: | ---: | ---: |',
    ...[
      ['coupling_forward', 'coupling net: forward'],
      ['coupling_forward_backward', 'coupling net: forward + backward'],
      ['caflow_step', 'CAFLOW 32×32: one training step'],
      ['caflow_sample', 'CAFLOW 32×32: sampling k = 8'],
    ].map(([id, label]) => {
      const f = byId.get(id as string);
      return `| ${label} | ${spread(f?.tfjs)} | ${spread(f?.pytorch)} | ${ratio(f?.ratio, 1)} |`;
    }),
    '',
    `Parameter counts: coupling net ${v.paramCounts.coupling.tfjs.toLocaleString('en-US')} (tfjs) / ${v.paramCounts.coupling.pytorch?.toLocaleString('en-US') ?? '–'} (PyTorch);`,
    `CAFLOW ${v.paramCounts.caflow.tfjs.toLocaleString('en-US')} / ${v.paramCounts.caflow.pytorch?.toLocaleString('en-US') ?? '–'}.`,
    '',
    ...(v.exported === undefined
      ? []
      : [
          `The exported model in PyTorch (\`caflowToPyTorch\`, docs/scale-out.md): the same training step with the module typed-flows`,
          `writes instead of the hand-written one took ${spread(v.exported.exported)} ms against ${spread(v.exported.handwritten)} ms,`,
          `a ratio of ${ratio(v.exported.ratio, 2)} (${v.exported.params?.toLocaleString('en-US') ?? '–'} parameters).`,
          '',
        ]),
    ...(ranPytorch
      ? [
          `What it means: on this machine typed-flows on \`${m.backend}\` takes ${ratio(byId.get('coupling_forward')?.ratio, 1)} PyTorch's time for the`,
          `coupling net's forward pass but ${ratio(byId.get('coupling_forward_backward')?.ratio, 1)} for forward + backward, and`,
          `${ratio(byId.get('caflow_step')?.ratio, 1)} for a whole CAFLOW training step; sampling, which has no backward pass, takes`,
          `${ratio(byId.get('caflow_sample')?.ratio, 1)}. The backward pass is where the gap is (see the profile below). Part of any gap`,
          `is threads: PyTorch uses 2, while the \`${m.backend}\` backend ${m.backend === 'wasm' ? 'runs on one here (tfjs turns wasm threads off in Node, tensorflow/tfjs#3830; typed-flows can turn them back on, see docs/backends.md, but they speed up only the wide convolutions: a CAFLOW step is no faster)' : 'uses what its build provides'}.`,
        ]
      : [`PyTorch did not run, so there are no ratios in this run: ${v.torch.note ?? v.torch.runNote ?? ''}`]),
    '',
  ];
};

/** Section 3: scaling of a CAFLOW training step with pixels and depth, and what the growth means. */
const scalingSection = (r: BenchResults): string[] => {
  const m = r.machine;
  const pix = r.scaling.points.filter((p) => p.sweep === 'pixels');
  const dep = r.scaling.points.filter((p) => p.sweep === 'depth');
  const lines: string[] = [
    '## 3. Scaling of a CAFLOW training step',
    '',
    `${r.scaling.note} Peak tensor memory is the high-water mark of \`tf.memory().numBytes\`, taken after every kernel of one`,
    'step (`tf.profile`\'s peakBytes); RSS is the process\'s resident memory after the steps and its peak (`maxRSS`).',
    m.backend === 'wasm' ? 'On wasm, tensors live in the module\'s linear memory, which only grows: "wasm heap" is its size at the end.' : '',
    '',
    `![Step time and peak tensor memory against image size and depth](${SCALING_FIGURE})`,
    '',
    '| sweep | configuration | params | step (ms) | time × first | peak tensors (MiB) | memory × first | RSS after (MiB) | peak RSS (MiB) | wasm heap (MiB) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.scaling.points.map(
      (p) =>
        `| ${p.sweep} | ${p.label} | ${p.params.toLocaleString('en-US')} | ${ms(p.step.median_ms)} | ${ratio(p.timeRatio)} | ${mib(p.peakTensorBytes)} | ${ratio(p.memoryRatio)} | ${mib(p.rssAfter)} | ${mib(p.maxRss)} | ${mib(p.wasmHeapBytes)} |`,
    ),
    ...(r.scaling.failures.length > 0 ? ['', ...r.scaling.failures.map((f) => `- ${f.label} failed: ${f.error}`)] : []),
    '',
  ];
  const growth = (pts: typeof pix, key: 'timeRatio' | 'memoryRatio'): string =>
    pts
      .slice(1)
      .map((p, i) => `${ratio(p[key] / (pts[i] as (typeof pts)[number])[key], 1)}`)
      .join(', then ');
  if (pix.length >= 2) {
    const b = pix[pix.length - 1] as (typeof pix)[number];
    lines.push(
      `What it means: each step of the pixel sweep has 4× the pixels; the step time grew ${growth(pix, 'timeRatio')} and the peak`,
      `tensor memory ${growth(pix, 'memoryRatio')} (${ratio(b.timeRatio, 1)} and ${ratio(b.memoryRatio, 1)} from ${pix[0]?.label} to ${b.label}). Growth below 4× per step`,
      'means a part of the cost does not depend on the image size: the thousands of small kernels and the JS work around them',
      '(log-det bookkeeping, the tape, the float64 LU of every Inv1x1 weight in JS), which dominate at',
      'small sizes; the larger the images, the closer the cost comes to proportional to the pixels.',
    );
  }
  if (dep.length >= 2) {
    const a = dep[0] as (typeof dep)[number];
    const b = dep[dep.length - 1] as (typeof dep)[number];
    const mult = b.config.encoderDepth / a.config.encoderDepth;
    lines.push(
      '',
      `Depth ${a.config.encoderDepth} → ${b.config.encoderDepth} multiplies the flow steps per block by ${mult}: the step time grew ${ratio(b.timeRatio, 1)}, the parameters`,
      `${ratio(b.params / a.params, 1)} and the peak tensor memory ${ratio(b.memoryRatio, 1)} (backprop keeps every layer's activations).`,
      b.timeRatio < 0.9 * mult
        ? 'Less than proportional, because a fixed part of each step (squeezes, the two extra [ActNorm, Inv1x1] per encoder block,'
        : 'Nearly proportional: the flow steps are almost all of the cost, and only a small fixed part (squeezes, the two extra [ActNorm, Inv1x1] per encoder block,',
      'the priors, dequantisation) does not grow with depth.',
    );
  }
  return lines;
};

/** Per-kernel profiles of a CAFLOW step and of sampling, the hot spots, and the transposeA probe. */
const profileSection = (r: BenchResults): string[] => {
  const m = r.machine;
  const v = r.versusPytorch;
  const step = v.profiles.caflowStep;
  const threads = threadRatios();
  const cat = (prefix: string): number => step.categories.filter((c) => c.kernel.startsWith(prefix)).reduce((s, c) => s + c.share, 0);
  const kernelStat = (name: string) => step.byKernel.find((k) => k.kernel === name);
  const matmulShare = cat('MatMul with transposeA') + cat('MatMul, plain');
  const im2col = cat('Slice/Concat/Pad');
  const flips = cat('Reverse') + cat('Transpose');
  const convShare = cat('Conv2D');
  const elementwise = cat('elementwise');
  const reverse = kernelStat('Reverse');
  const outsideShare = outsideKernels(step) / step.wall_ms;
  return [
    '## Where the time goes: profile of a CAFLOW step',
    '',
    `Per-kernel times of one training step and one sampling call of the section-2 model on \`${m.backend}\` (\`tf.profile\`, the`,
    'backend\'s timer around each kernel; profiling itself adds some overhead).',
    '',
    ...profileTables(step, 'Training step', 'JS: op dispatch, the autodiff tape, tidy, the LU, log-det and inverse of each Inv1x1 weight in float64 JS'),
    ...profileTables(v.profiles.caflowSample, 'Sampling (k = 8)', 'JS: op dispatch, tidy, slogdet and inverse of each Inv1x1 weight in float64 JS, ranking'),
    '### Hot spots',
    '',
    `In a CAFLOW training step on \`${m.backend}\`, by share of kernel time (the profile above):`,
    '',
    `- **Convolutions: ${pct(convShare)} of the kernel time.** The forward pass runs conv + bias + ReLU as one XNNPACK kernel`,
    '  (FusedConv2D, `conv2dSame` in src/layers/ops.ts); the gradients come from its custom gradient (src/layers/conv-gradients.ts):',
    '  the input gradient is a forward convolution of dy with the kernel rotated by 180° (a product with a k²×k² permutation',
    '  matrix) and in/out-swapped; the filter gradient is one product xᵀ·dy for 1×1 kernels, one forward convolution with batch',
    '  and channels swapped for 16 input channels or more, and one product per kernel tap over a channels-first slice otherwise.',
    '  The swapped convolution has the image as its kernel and 8 (the batch) input channels, a shape XNNPACK handles at about',
    '  half its usual speed, and XNNPACK builds (packs) an operator for every new weight tensor, which in training is every call.',
    `  Slices, concats and pads take ${pct(im2col)} of the kernel time, transposes ${pct(flips)}${reverse !== undefined ? ` (${reverse.calls} Reverse calls, ${ms(reverse.ms)} ms)` : ''},`,
    `  the matrix products ${pct(matmulShare)}.`,
    "- **Layout kernels.** tfjs-backend-wasm's own Slice, SplitV, Concat, Identity, Cast and transposed BatchMatMul copied far",
    '  more than they needed or took slow paths; section 5 measures each against the replacement `selectBackend` registers.',
    `- **Thousands of tiny kernels.** ${step.kernelCalls} kernel calls per step; the elementwise ops and reductions among them`,
    `  (log-det bookkeeping, per-layer broadcasts and their gradients) take ${pct(elementwise)} of the kernel time, and about`,
    `  ${pct(outsideShare)} of the profiled step is spent outside kernels, in JS (op dispatch, the tape and the tensors it saves,`,
    '  tidy, and the float64 LU of every Inv1x1 weight). Both grow with the number of layers, not with the image size, which is',
    '  why small images scale sub-linearly in section 3. Adam is one fused kernel (section 5).',
    `- **One thread.** ${m.backend === 'wasm' ? `The wasm backend runs single-threaded in Node by default (tfjs disables its threads there, tensorflow/tfjs#3830), so one of the two cores idles while PyTorch uses both. \`TYPED_FLOWS_WASM_THREADS=2\` turns them on (docs/backends.md)${threads === undefined ? '.' : `: in the last \`npx tsx bench/wasm-threads.ts\` run the coupling net took ${ratio(threads.coupling)} and a CAFLOW step, with its many small kernels, ${ratio(threads.step)} the single-threaded time.`}` : `The \`${m.backend}\` backend's threading decides how much of the machine is used.`}`,
    '',
    ...(v.transposeProbe.length > 0
      ? [
          'The same product patchesᵀ·dy written as `matMul(patches, dy, transposeA = true)` and as `matMul(transpose(patches), dy)`,',
          'at the shapes of the workloads above (medians). With wasm\'s own BatchMatMul the first form took up to 9× longer (section 5);',
          'the BatchMatMul `selectBackend` registers lays the operand out first, so the two should now take the same time:',
          '',
          '| workload | patches | dy | transposeA (ms) | transpose + matMul (ms) | ratio |',
          '| --- | --- | --- | ---: | ---: | ---: |',
          ...v.transposeProbe.map(
            (t) =>
              `| ${t.workload} | [${t.a.join(',')}] | [${t.b.join(',')}] | ${ms(t.transposeA.median_ms)} | ${ms(t.explicitTranspose.median_ms)} | ${ratio(t.ratio, 1)} |`,
          ),
          '',
          Math.max(...v.transposeProbe.map((t) => t.ratio)) > 1.5
            ? 'In this run transposeA is still much slower: the replacement BatchMatMul is not in place (`registerWasmKernels`).'
            : 'In this run the two forms take the same time, as they should with the replacement kernel in place.',
          '',
        ]
      : []),
  ];
};

const startupSection = (s: StartupResult): string[] => [
  '## 8. Start-up of the command line',
  '',
  `Measured ${s.date} (\`${s.command}\`): \`node bin/typed-flows.js --help\`, from the compiled dist/ (what \`npm ci\` builds through`,
  '`prepare`; no compiler at run time) and from the sources through tsx (`TYPED_FLOWS_FROM_SOURCE=1`, what the tests run).',
  'Cold: the first run (for tsx with an empty cache, so it compiles every file); warm: the median of the runs after it.',
  `Target for dist/: ${s.targetSeconds} s or less on 2 cores.`,
  ...(s.otherProcessesBusy !== null && s.otherProcessesBusy >= 0.1 ? ['', `Other processes used ${pct(s.otherProcessesBusy)} of the CPUs just before: the seconds are inflated.`] : []),
  '',
  '| how | cold (s) | warm (s) |',
  '| --- | ---: | ---: |',
  ...s.figures.map((f) => `| ${f.how} | ${f.coldSeconds.toFixed(2)} | ${f.warmSeconds.toFixed(2)} |`),
  '',
];

const trainEngineSection = (t: TrainEngineResult): string[] => [
  '## 9. `train --engine pytorch` against train.py by hand',
  '',
  `Measured ${t.date} (\`${t.command}\`): ${t.steps} steps of the mnist-sr preset from the same step-1 run, one process, OMP_NUM_THREADS=1,`,
  `median of ${t.rounds} alternating round(s). By hand: \`python3 train.py --no-eval\` in the folder \`export --format pytorch\` wrote;`,
  'the command: `typed-flows train --engine pytorch --resume` on a copy of the run, cold (no cache folder: it loads the pairs and',
  'writes data.safetensors) and cached. Target: at most 5 % over by hand.',
  ...(t.otherProcessesBusy !== null && t.otherProcessesBusy >= 0.1 ? ['', `Other processes used ${pct(t.otherProcessesBusy)} of the CPUs just before: the seconds are inflated.`] : []),
  ...(t.note === undefined
    ? [
        '',
        '| how | seconds | over by hand |',
        '| --- | ---: | ---: |',
        `| train.py by hand | ${t.byHandSeconds} | |`,
        `| the command, cold | ${t.commandColdSeconds} | ${(100 * t.overheadCold).toFixed(1)} % |`,
        `| the command, cached | ${t.commandCachedSeconds} | ${(100 * t.overheadCached).toFixed(1)} % |`,
      ]
    : ['', `Not measured: ${t.note}.`]),
  '',
];

const flowMatchingSection = (f: FlowMatchingResult): string[] => [
  '## 10. Flow matching against the exported PyTorch module',
  '',
  `Measured ${f.date} (\`${f.command}\`): the \`cnf\` preset of \`fit\` on two moons (${f.setup.rows} rows, ${f.setup.params} field parameters,`,
  `${f.setup.solver}), the same parameters on both sides; PyTorch runs the module \`distributionToPyTorch\` exports. Train step: one`,
  `flow-matching step of ${f.setup.batch} rows (loss, gradients, clipping at ${f.setup.clipNorm}, Adam); the exported module has no field`,
  'method of its own (the field is inlined in its unrolled solver), so bench/pytorch/flow_matching.py computes the field from the',
  `module's parameters${f.fieldMaxAbsError === undefined ? '' : ` (largest difference from tfjs' field: ${f.fieldMaxAbsError.toExponential(1)})`}. Sampling: ${f.setup.samples} draws with their log p. tfjs on ${f.backend} (one thread in Node).`,
  ...(f.otherProcessesBusy !== null && f.otherProcessesBusy >= 0.1 ? ['', `Other processes used ${pct(f.otherProcessesBusy)} of the CPUs just before: PyTorch on 2 threads suffers most.`] : []),
  '',
  '| engine | threads | train step (ms) | tfjs / it | sampling (ms) | tfjs / it |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  `| tfjs (${f.backend}) | 1 | ${f.tfjs.trainStep.median_ms.toFixed(2)} | | ${f.tfjs.sample.median_ms.toFixed(1)} | |`,
  ...f.torch.runs.map((t) => `| PyTorch ${f.torch.version ?? ''} | ${t.threads} | ${t.trainStep.median_ms.toFixed(2)} | ${t.ratioTrainStep} | ${t.sample.median_ms.toFixed(1)} | ${t.ratioSample} |`),
  ...(f.torch.note === undefined ? [] : ['', `PyTorch not measured: ${f.torch.note}.`]),
  '',
];

const notesSection = (): string[] => [
  '## Notes',
  '',
  '- Timings are wall-clock around each call, with the results read back (`dataSync`) inside the timed region; tensors are',
  '  disposed outside it. The tfjs figures run in the benchmark process, PyTorch in its own; the scaling points each run in',
  '  a fresh process so that their RSS figures are their own.',
  '- The PyTorch model is a benchmark workload, not a port: it matches the FLOPs (layers, widths, conditioning, loss,',
  '  clipping, Adam) but not the numerics of initialisation or the random streams.',
  '- Machine load matters: both sides are measured in the same run, minutes apart, so ratios are more stable than the',
  '  absolute milliseconds. Re-run `npm run bench` on your own machine for your own numbers.',
  '',
];

/** docs/performance.md: one function per section; runs of blank lines collapse to one. */
export const performanceMarkdown = (r: BenchResults): string => {
  const lines = [
    ...headerSection(r),
    ...dslOverheadSection(r),
    ...pytorchSection(r),
    ...scalingSection(r),
    ...(r.wasmGradients === undefined ? [] : ['', ...wasmGradientsSection(r.wasmGradients)]),
    ...(r.wasmKernels === undefined ? [] : ['', ...wasmKernelsSection(r.wasmKernels)]),
    ...(r.density === undefined ? [] : ['', ...densitySection(r.density)]),
    ...(r.engines === undefined ? [] : ['', ...enginesSection(r.engines)]),
    ...(r.startup === undefined ? [] : ['', ...startupSection(r.startup)]),
    ...(r.trainEngine === undefined ? [] : ['', ...trainEngineSection(r.trainEngine)]),
    ...(r.flowMatching === undefined ? [] : ['', ...flowMatchingSection(r.flowMatching)]),
    '',
    ...profileSection(r),
    ...notesSection(),
  ];
  return lines.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');
};

/** The headline ratios: this project's time / the other's (section 3: relative to the sweep's first point). */
export const ratiosOf = (r: BenchResults): Record<string, number | null> => ({
  'dsl/forward': r.dslOverhead.forward.ratio,
  'dsl/forwardBackward': r.dslOverhead.forwardBackward.ratio,
  ...Object.fromEntries(r.versusPytorch.figures.map((f) => [`pytorch/${f.id}`, f.ratio ?? null])),
  ...Object.fromEntries(r.scaling.points.map((p) => [`scaling/${p.sweep}/${p.label.replace(/\s+/g, '')}/time`, p.timeRatio])),
  ...Object.fromEntries(r.scaling.points.map((p) => [`scaling/${p.sweep}/${p.label.replace(/\s+/g, '')}/peakTensorBytes`, p.memoryRatio])),
  ...(r.wasmGradients === undefined
    ? {}
    : {
        ...Object.fromEntries(r.wasmGradients.convGradients.map((f) => [`wasm/convGradient/${f.workload.split(',')[0]?.replace(/\s+/g, '_')}/conv2d-vs-conv2dSame`, f.ratio])),
        ...Object.fromEntries(r.wasmGradients.inputKernel.map((f) => [`wasm/inputGradient/${f.workload.split(',')[0]?.replace(/\s+/g, '_')}/native-vs-composed`, f.ratio])),
        'wasm/sampling/cacheOff-vs-cacheOn': r.wasmGradients.sampling.ratio,
      }),
  ...(r.wasmKernels === undefined
    ? {}
    : {
        'wasm/kernels/stock-vs-ours/caflowStep': r.wasmKernels.caflow[0]?.ratio ?? null,
        'wasm/kernels/stock-vs-ours/sampling': r.wasmKernels.caflow[1]?.ratio ?? null,
        'wasm/adam/ops-vs-fused': r.wasmKernels.adam.ratio,
      }),
  ...(r.flowMatching === undefined ? {} : Object.fromEntries(r.flowMatching.torch.runs.flatMap((t) => [[`flowMatching/trainStep/tfjs-vs-pytorch${t.threads}`, t.ratioTrainStep], [`flowMatching/sample/tfjs-vs-pytorch${t.threads}`, t.ratioSample]]))),
  ...(r.density === undefined ? {} : Object.fromEntries(r.density.rows.map((f) => [`density/${f.dataset.replace(/\s+/g, '_')}/${f.flow}/timePerStep`, f.ratio ?? null]))),
  ...(r.engines === undefined
    ? {}
    : Object.fromEntries(r.engines.figures.flatMap((f) => [[`onnx/${f.id}/onnxRuntime-vs-pytorch`, f.onnxVsPytorch ?? null], [`onnx/${f.id}/tfjs-vs-onnxRuntime`, f.tfjsVsOnnx]]))),
});

/** Writes bench/results.json and docs/performance.md; returns the paths written (relative to the repo). */
export const writeReport = async (r: BenchResults): Promise<string[]> => {
  const json = join(here, 'results.json');
  r.ratios = ratiosOf(r);
  const doc = join(root, 'docs', 'performance.md');
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  mkdirSync(dirname(doc), { recursive: true });
  writeFileSync(doc, performanceMarkdown(r));
  const figure = await writeFigure(join(root, 'docs', SCALING_FIGURE), scalingSpec(scalingPoints(r)));
  return [relative(root, json), relative(root, doc), relative(root, figure.png), relative(root, figure.svg)];
};

/** The scaling figure's path under docs/ (written by writeReport, shown in section 3). */
export const SCALING_FIGURE = 'images/bench-scaling.png';

/** Section 3's points as the scaling figure takes them. */
export const scalingPoints = (r: BenchResults): ScalingFigurePoint[] =>
  r.scaling.points.map((p) => ({
    sweep: p.sweep,
    x: p.sweep === 'pixels' ? p.config.size : p.config.encoderDepth,
    msPerStep: p.step.median_ms,
    peakTensorMiB: p.peakTensorBytes / 2 ** 20,
  }));
