/**
 * The benchmark suite: `npm run bench` (= `tsx bench/run.ts`), or `npx tsx bench/run.ts --quick` for a
 * smaller run. Benchmarks measure and report; they assert nothing about the numbers.
 *
 * 1. DSL overhead: interpreters vs the same computation hand-written in tfjs (bench/dsl-overhead.ts).
 * 2. Against PyTorch CPU, 2 threads: coupling-net workload, CAFLOW training step, sampling
 *    (bench/versus-pytorch.ts, bench/pytorch/).
 * 3. Scaling of a CAFLOW training step with image size and depth (bench/scaling.ts).
 * 4. On wasm: plain tf.conv2d gradients (registered kernels) vs conv2dSame's custom gradient, and
 *    sampling with the Inv1x1 cache off and on (bench/wasm-gradients.ts).
 * 5. On wasm: tfjs-backend-wasm's own kernels vs typed-flows' (bench/wasm-kernels.ts).
 * 6. Density estimation against the same MAF and NSF in plain PyTorch: held-out NLL after a fixed
 *    budget on 2-D toys and an 8-D Gaussian mixture, and time per step (bench/density.ts,
 *    bench/pytorch/density.py).
 * 7. Inference on ONNX Runtime (the exported graphs) vs PyTorch CPU vs tfjs: CAFLOW sampling and
 *    likelihood, a Glow block forward (bench/onnx.ts).
 * 8. Start-up of the command line: `node bin/typed-flows.js --help` from dist/ and from the sources
 *    (bench/startup.ts).
 * 9. `train --engine pytorch` against the exported train.py run by hand: the command's overhead on a
 *    200-step mnist-sr run (bench/train-engine.ts).
 * 10. Flow matching against the exported PyTorch module: the `cnf` preset's training step and sampling pass
 *    on 1 and 2 PyTorch threads (bench/flow-matching.ts, bench/pytorch/flow_matching.py).
 * Writes bench/results.json and docs/performance.md (bench/report.ts).
 *
 * Options: --quick (fewer repetitions, smaller sweeps); --only-wasm-gradients (run section 4 alone and
 * merge it into the existing bench/results.json, keeping the other sections' numbers); --only-density (the
 * same for section 6); --only-engines (the same for section 7); --only-startup (the same for section 8); --only-train-engine (the same for section 9); --only-flow-matching (the same for section 10); --wait-idle (before each section and each scaling
 * point, wait until other processes use less than 10% of the CPUs; 15 minutes of waiting in all at
 * most, then it goes on regardless). Before each section and scaling point the run samples, for one second,
 * how busy the machine is with other processes and records it: other load distorts the ratios (PyTorch's
 * two threads suffer most on a 2-core machine).
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend/index.js';
import { busyShare, loadSnapshot, log, machine, runSize, waitForIdle } from './common.js';
import { runDensity, type DensityResult } from './density.js';
import { runDslOverhead } from './dsl-overhead.js';
import { runEngines, type EnginesResult } from './onnx.js';
import { writeReport, type BenchResults } from './report.js';
import { runScaling } from './scaling.js';
import { runPytorchSide, runVersusPytorch } from './versus-pytorch.js';
import { runWasmGradients, type WasmGradientsResult } from './wasm-gradients.js';
import { runWasmKernels } from './wasm-kernels.js';
import { runStartup, type StartupResult } from './startup.js';
import { runTrainEngine, type TrainEngineResult } from './train-engine.js';
import { logFlowMatching, runFlowMatching } from './flow-matching.js';

const logWasmGradients = (r: WasmGradientsResult): void => {
  for (const f of [...r.convGradients, ...r.inputKernel, r.sampling]) {
    log(`bench:   ${f.workload}: ${f.a} ${f.timeA.median_ms.toFixed(1)} ms, ${f.b} ${f.timeB.median_ms.toFixed(1)} ms, ratio ${f.ratio}x (paired ${f.pairedRatio}x)`);
  }
};

/** What a section run alone gets: the machine's load before it, the backend, the command line. */
interface AloneContext {
  readonly busy: number | null;
  readonly backend: Awaited<ReturnType<typeof selectBackend>>['name'];
  readonly command: string;
}

/** One section alone, merged into the results of the last full run (bench/results.json). */
const runAlone = async (
  title: string,
  o: { readonly waitIdle: boolean; readonly args: readonly string[]; readonly prefer?: 'wasm' },
  run: (results: BenchResults, context: AloneContext) => Promise<void> | void,
): Promise<void> => {
  const path = new URL('./results.json', import.meta.url);
  const results = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  if (o.waitIdle) await waitForIdle(900);
  const b = await busyShare();
  if (b !== undefined && b >= 0.1) log(`bench: warning: other processes use ${(100 * b).toFixed(0)}% of the CPUs; figures will be distorted`);
  const selection = await selectBackend({ ...(o.prefer === undefined ? {} : { prefer: o.prefer }), log: (m) => log(m) });
  log(`bench: ${title} (alone; merged into bench/results.json)`);
  await run(results, { busy: b ?? null, backend: selection.name, command: ['npx tsx bench/run.ts', ...o.args].join(' ') });
  log(`bench: wrote ${(await writeReport(results)).join(', ')}`);
};

/** Section 4 alone. */
const onlyWasmGradients = (quick: boolean, waitIdle: boolean, args: readonly string[]): Promise<void> =>
  runAlone('[4] wasm: conv gradients and the Inv1x1 cache', { waitIdle, args, prefer: 'wasm' }, async (results, c) => {
    results.wasmGradients = await runWasmGradients(runSize(quick), c.command, c.busy);
    logWasmGradients(results.wasmGradients);
  });

const logDensity = (r: DensityResult): void => {
  if (r.torch.note !== undefined || r.torch.runNote !== undefined) log(`bench:   PyTorch: ${r.torch.note ?? r.torch.runNote}`);
};

/** Section 6 alone. */
const onlyDensity = (quick: boolean, waitIdle: boolean, args: readonly string[]): Promise<void> =>
  runAlone('[6] density estimation against PyTorch', { waitIdle, args }, (results, c) => {
    results.density = runDensity(quick, c.command, c.backend, c.busy);
    logDensity(results.density);
  });

const logEngines = (e: EnginesResult): void => {
  for (const f of e.figures)
    log(`bench:   ${f.id}: ONNX Runtime ${f.onnx.median_ms.toFixed(1)} ms, PyTorch ${f.pytorch?.median_ms.toFixed(1) ?? '–'} ms, tfjs ${f.tfjs.median_ms.toFixed(1)} ms (ORT/PyTorch ${f.onnxVsPytorch ?? '–'}x, tfjs/ORT ${f.tfjsVsOnnx}x)`);
  if (e.torch.note !== undefined) log(`bench:   PyTorch: ${e.torch.note}`);
};

/** Section 7 alone. */
const onlyEngines = (quick: boolean, waitIdle: boolean, args: readonly string[]): Promise<void> =>
  runAlone('[7] ONNX Runtime vs PyTorch vs tfjs', { waitIdle, args }, async (results, c) => {
    const engines = await runEngines(runSize(quick), c.backend, c.busy);
    results.engines = { ...engines, date: new Date().toISOString(), command: c.command };
    logEngines(engines);
  });

const logStartup = (r: StartupResult): void => {
  for (const f of r.figures) log(`bench:   --help, ${f.how}: cold ${f.coldSeconds.toFixed(2)} s, warm ${f.warmSeconds.toFixed(2)} s (median of ${f.warmRuns}; target ${r.targetSeconds} s for dist/)`);
};

/** Section 8 alone. */
const onlyStartup = (quick: boolean, waitIdle: boolean, args: readonly string[]): Promise<void> =>
  runAlone('[8] start-up of the command line', { waitIdle, args }, (results, c) => {
    results.startup = runStartup(quick, c.command, c.busy);
    logStartup(results.startup);
  });

const logTrainEngine = (r: TrainEngineResult): void => {
  if (r.note !== undefined) log(`bench:   skipped: ${r.note}`);
  else log(`bench:   ${r.steps} steps: by hand ${r.byHandSeconds} s, the command ${r.commandColdSeconds} s cold (${(100 * r.overheadCold).toFixed(1)} %), ${r.commandCachedSeconds} s cached (${(100 * r.overheadCached).toFixed(1)} %)`);
};

/** Section 9 alone. */
const onlyTrainEngine = (quick: boolean, waitIdle: boolean, args: readonly string[]): Promise<void> =>
  runAlone('[9] train --engine pytorch against train.py by hand', { waitIdle, args }, (results, c) => {
    results.trainEngine = runTrainEngine(quick, c.command, c.busy);
    logTrainEngine(results.trainEngine);
  });

/** Section 10 alone. */
const onlyFlowMatching = (quick: boolean, waitIdle: boolean, args: readonly string[]): Promise<void> =>
  runAlone('[10] flow matching against the exported PyTorch module', { waitIdle, args, prefer: 'wasm' }, (results, c) => {
    results.flowMatching = runFlowMatching(quick, c.command, c.backend, c.busy);
    logFlowMatching(results.flowMatching);
  });

const main = async (): Promise<void> => {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--quick' && a !== '--wait-idle' && a !== '--only-wasm-gradients' && a !== '--only-density' && a !== '--only-engines' && a !== '--only-startup' && a !== '--only-train-engine' && a !== '--only-flow-matching');
  if (unknown.length > 0) {
    log(`usage: tsx bench/run.ts [--quick] [--wait-idle] [--only-wasm-gradients | --only-density | --only-engines | --only-startup | --only-train-engine | --only-flow-matching]   (unknown: ${unknown.join(' ')})`);
    process.exit(2);
  }
  const size = runSize(args.includes('--quick'));
  const waitIdle = args.includes('--wait-idle');
  if (args.includes('--only-wasm-gradients')) return onlyWasmGradients(size.quick, waitIdle, args);
  if (args.includes('--only-density')) return onlyDensity(size.quick, waitIdle, args);
  if (args.includes('--only-engines')) return onlyEngines(size.quick, waitIdle, args);
  if (args.includes('--only-startup')) return onlyStartup(size.quick, waitIdle, args);
  if (args.includes('--only-train-engine')) return onlyTrainEngine(size.quick, waitIdle, args);
  if (args.includes('--only-flow-matching')) return onlyFlowMatching(size.quick, waitIdle, args);
  let waited = 0;
  const started = performance.now();
  const loadAtStart = loadSnapshot();
  const busy: Record<string, number | null> = {};
  /** Samples other processes' CPU use; with --wait-idle first waits for it to drop (15 minutes in all at most). */
  const checkLoad = async (): Promise<number | null> => {
    if (waitIdle && waited < 900) {
      const w = await waitForIdle(900 - waited);
      waited += w.waited;
    }
    const b = await busyShare();
    if (b !== undefined && b >= 0.1) log(`bench: warning: other processes use ${(100 * b).toFixed(0)}% of the CPUs; figures will be distorted`);
    return b ?? null;
  };
  const sampleBusy = async (section: string): Promise<void> => {
    busy[section] = await checkLoad();
  };
  await sampleBusy('pytorch');
  // PyTorch's side of section 2 first, in its own process, while this process is still idle (no tfjs
  // loaded yet, so no background compilation or GC threads competing with PyTorch's two threads).
  log('bench: [2/3, PyTorch side] PyTorch CPU, 2 threads, own process');
  const torchSide = runPytorchSide(size);
  const selection = await selectBackend({ log: (m) => log(m) });
  const m = machine(selection.name);
  log(`bench: backend ${selection.name} (tfjs '${tf.getBackend()}'${m.backendNotes ? `, ${m.backendNotes}` : ''}); ${m.cpu}, ${m.cores} cores, node ${m.node}${size.quick ? '; quick run' : ''}`);

  await sampleBusy('dslOverhead');
  log('bench: [1/3] DSL overhead (interpreters vs hand-written tfjs)');
  const dsl = runDslOverhead(size);
  log(`bench:   forward ${dsl.forward.ratio}x, forward+backward ${dsl.forwardBackward.ratio}x`);

  await sampleBusy('versusPytorchTfjs');
  log('bench: [2/3] against PyTorch CPU (tfjs side)');
  const versus = await runVersusPytorch(size, torchSide);
  for (const f of versus.figures) log(`bench:   ${f.id}: tfjs ${f.tfjs.median_ms.toFixed(1)} ms${f.ratio === undefined ? '' : `, PyTorch ${f.pytorch?.median_ms.toFixed(1)} ms, ratio ${f.ratio}x`}`);

  await sampleBusy('scaling');
  log('bench: [3/3] scaling (one process per configuration)');
  const scaling = await runScaling(size, selection.name, checkLoad);
  for (const p of scaling.points) log(`bench:   ${p.sweep} ${p.label}: ${p.step.median_ms.toFixed(0)} ms, peak tensors ${(p.peakTensorBytes / 2 ** 20).toFixed(0)} MiB`);

  await sampleBusy('wasmGradients');
  log('bench: [4] wasm: conv gradients and the Inv1x1 cache');
  const wasmGradients = await runWasmGradients(size, ['npx tsx bench/run.ts', ...args].join(' '), busy['wasmGradients'] ?? null);
  logWasmGradients(wasmGradients);

  await sampleBusy('wasmKernels');
  log('bench: [5] wasm: tfjs-wasm\'s own kernels vs typed-flows\'');
  const wasmKernels = await runWasmKernels(size);
  for (const f of [...wasmKernels.kernels, wasmKernels.adam, ...wasmKernels.caflow]) {
    log(`bench:   ${f.workload}: ${f.a} ${f.timeA.median_ms.toFixed(2)} ms, ${f.b} ${f.timeB.median_ms.toFixed(2)} ms, ratio ${f.ratio}x (paired ${f.pairedRatio}x)`);
  }

  await sampleBusy('density');
  log('bench: [6] density estimation against PyTorch (MAF, NSF)');
  const density = runDensity(size.quick, ['npx tsx bench/run.ts', ...args].join(' '), selection.name, busy['density'] ?? null);
  logDensity(density);

  await sampleBusy('engines');
  log('bench: [7] ONNX Runtime vs PyTorch vs tfjs (inference)');
  const engines = await runEngines(size, selection.name, busy['engines'] ?? null);
  logEngines(engines);

  await sampleBusy('startup');
  log('bench: [8] start-up of the command line (--help)');
  const startup = runStartup(size.quick, ['npx tsx bench/run.ts', ...args].join(' '), busy['startup'] ?? null);
  logStartup(startup);

  await sampleBusy('trainEngine');
  log('bench: [9] train --engine pytorch against train.py by hand');
  const trainEngine = runTrainEngine(size.quick, ['npx tsx bench/run.ts', ...args].join(' '), busy['trainEngine'] ?? null);
  logTrainEngine(trainEngine);

  await sampleBusy('flowMatching');
  log('bench: [10] flow matching against the exported PyTorch module');
  const flowMatching = runFlowMatching(size.quick, ['npx tsx bench/run.ts', ...args].join(' '), selection.name, busy['flowMatching'] ?? null);
  logFlowMatching(flowMatching);

  const results: BenchResults = {
    date: new Date().toISOString(),
    command: ['npx tsx bench/run.ts', ...args].join(' '),
    quick: size.quick,
    repetitions: { cheap: size.cheap, step: size.step, sweep: size.sweep },
    machine: m,
    backend: { name: selection.name, tried: selection.tried },
    durationSeconds: 0,
    ratios: {},
    load: { start: loadAtStart, end: loadSnapshot(), otherProcessesBusy: busy, waitedForIdleSeconds: waited },
    dslOverhead: dsl,
    versusPytorch: versus,
    scaling,
    wasmGradients,
    wasmKernels,
    density,
    engines: { ...engines, date: new Date().toISOString(), command: ['npx tsx bench/run.ts', ...args].join(' ') },
    startup,
    trainEngine,
    flowMatching,
  };
  results.durationSeconds = Math.round((performance.now() - started) / 1000);
  const written = await writeReport(results);
  log(`bench: done in ${results.durationSeconds} s; wrote ${written.join(', ')}`);
};

main().catch((e: unknown) => {
  log(`bench: failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
