/**
 * The `typed-flows` command line: summary and verify of a user's spec (JSON), fit of a flow to rows of
 * numbers; train, eval, sample, report and demo of CAFLOW runs (each command's module is loaded only when it runs).
 * Exit codes: 0 ok, 1 a check failed, 2 bad input or options (the message says what to fix),
 * 3 could not run (backend unavailable, file system failure, a bug); errors are mapped to them in
 * one place, src/cli/errors.ts.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
// Only light modules here: `--help` must not load tfjs. Each command loads what it needs when it runs.
import type { BackendName } from '../backend/index.js';
import { UsageError } from './user-errors.js';
import { presets, type RunConfig } from '../experiments/config.js';
import { existsSync } from 'node:fs';
import { seedRunName, sweepSeeds } from '../experiments/seeds.js';
import type { PixelRange } from '../metrics/features.js';
import { exportFormats, distributionDirections, type ExportFormat, type DistributionDirection } from './export-choices.js';
import { caflowDirections, type CaflowDirection } from '../caflow/directions.js';
import { engines, trainEngines, type Engine, type TrainEngine } from './engine.js';
import { fitsFloat32, OUTSIDE_FLOAT32 } from './float32.js';
import { commanderExit } from './exit-codes.js';
import { cliHint, DEFAULT_OUT, pytorchExportHints } from './hints.js';
import { progressOf } from './progress.js';
import { PYTHON_ENV_VAR } from './torch-python.js';
import { modelPresets as modelPresetNames } from '../distributions/preset-names.js';

/** The run folder helpers (fs and JSON only). */
const runDirs = () => import('./run-dir.js');

const integer = (name: string, min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};
/** `lo,hi`, e.g. the pixel range a feature network takes. */
const pixelRange = (value: string): PixelRange => {
  const parts = value.split(',').map((s) => Number(s.trim()));
  const [lo, hi] = parts;
  if (parts.length !== 2 || lo === undefined || hi === undefined || !Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi))
    throw new InvalidArgumentError('expected two numbers lo,hi with lo < hi, e.g. -1,1 or 0,1 or 0,255');
  return [lo, hi];
};
/** A positive number that becomes a float32 (a learning rate, a temperature, a noise scale). */
const positive = (value: string): number => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number');
  if (!fitsFloat32(n)) throw new InvalidArgumentError(`${value} is ${OUTSIDE_FLOAT32}`);
  return n;
};

const nonNegative = (value: string): number => {
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a finite number >= 0');
  if (!fitsFloat32(n)) throw new InvalidArgumentError(`${value} is ${OUTSIDE_FLOAT32}`);
  return n;
};

const program = new Command()
  .name('typed-flows')
  .description('Normalizing flows as typed values on TensorFlow.js: inspect and property-test flow specs, train and evaluate CAFLOW.')
  .addOption(
    new Option('--backend <name>', 'tfjs backend; auto (the default) picks the best that loads: node-gpu, node, wasm, cpu. Env: TYPED_FLOWS_BACKEND').choices([
      'auto',
      'node-gpu',
      'node',
      'wasm',
      'cpu',
    ]),
  )
  .addHelpText(
    'after',
    '\nExit codes: 0 ok, 1 a check failed, 2 bad input or options, 3 could not run (README.md, "Exit codes and limits").\n' +
      'Environment: TYPED_FLOWS_BACKEND, TYPED_FLOWS_WASM_THREADS, TYPED_FLOWS_MAX_MEMORY, TYPED_FLOWS_DEBUG.',
  )
  .showHelpAfterError('(add --help for usage)')
  // Option errors throw a CommanderError instead of exiting with 1: they are mapped to exit code 2 below.
  // Subcommands inherit this setting (they are created after it).
  .exitOverride();

const backendOf = async (quiet: boolean): Promise<string> => {
  // Without --backend, selectBackend reads TYPED_FLOWS_BACKEND (the flag wins over the variable).
  const { backend } = program.opts<{ backend?: BackendName | 'auto' }>();
  const { BackendError, selectBackend } = await import('../backend/index.js');
  try {
    const chosen = await selectBackend({ ...(backend === undefined ? {} : { prefer: backend }), ...(quiet ? { log: () => undefined } : {}) });
    return chosen.name;
  } catch (e) {
    // The library speaks of its `prefer` option; on the command line that is --backend.
    if (e instanceof BackendError && backend !== undefined) {
      throw new BackendError(e.message.replace('forced by the prefer option', `forced by --backend ${backend}`).replace(`pass prefer: 'auto'`, 'pass --backend auto'), e.tried);
    }
    throw e;
  }
};

program
  .command('summary')
  .description('print the layer table of a spec: kinds, input and output shapes, parameter counts')
  .argument('<spec.json>', 'a flow spec (JSON)')
  .action(async (file: string) => {
    const [{ readSpecFile }, { checkLayers, specCost }, { summary }] = await Promise.all([import('./io.js'), import('./limits.js'), import('../interpreters/summary.js')]);
    const spec = await readSpecFile(file);
    checkLayers(specCost(spec), 'summary');
    console.log(summary(spec));
  });

program
  .command('verify')
  .description(
    'property-test a spec on random inputs at its declared shape: round trips, log-det of the inverse, ' +
      'log-det against the dense autodiff Jacobian (small flows), output shapes and tensor leaks',
  )
  .argument('<spec.json>', 'a flow spec (JSON)')
  .option('--seed <n>', 'first seed', integer('seed', 0), 0)
  .option('--runs <n>', 'number of seeds to try', integer('runs', 1), 3)
  .option('--batch <n>', 'samples per run', integer('batch', 1), 2)
  .option('--perturb <std>', 'noise added to fresh parameters so zero-initialised layers are not the identity', positive, 0.2)
  .option('--max-reference-size <d>', 'dense Jacobians up to this many dimensions: of the whole flow, else of each layer (on a crop of it when larger)', integer('max-reference-size', 0), 256)
  .addOption(
    new Option('--reference <engine>', "also check every layer against its float64 self (layers that fail a law always are, to tell a wrong formula from float32's limits)").choices([
      'float64',
    ]),
  )
  .option('--json', 'print machine-readable results')
  .option('--quiet', 'no progress output (on stderr)')
  .action(async (file: string, o: { seed: number; runs: number; batch: number; perturb: number; maxReferenceSize: number; reference?: 'float64'; json?: boolean; quiet?: boolean }) => {
    const [{ readSpecFile }, { checkVerify }, { verifyFlow }, { renderVerify, verifyJson }] = await Promise.all([
      import('./io.js'),
      import('./limits.js'),
      import('../interpreters/verify.js'),
      import('./verify-report.js'),
    ]);
    const spec = await readSpecFile(file);
    checkVerify(spec, o.batch);
    const backend = await backendOf(o.json === true);
    const say = progressOf('verify', o.quiet === true);
    const runs = Array.from({ length: o.runs }, (_, i) => {
      const seed = o.seed + i;
      say(`seed ${seed} (${i + 1} of ${o.runs})`);
      return { seed, report: verifyFlow(spec, { seed, batch: o.batch, perturb: o.perturb, maxReferenceSize: o.maxReferenceSize, ...(o.reference === undefined ? {} : { reference: o.reference }) }) };
    });
    console.log(o.json === true ? verifyJson(file, backend, runs) : renderVerify(file, runs));
    if (!runs.every((r) => r.report.passed)) process.exitCode = 1;
  });

const out = (): Option => new Option('--out <dir>', 'directory of runs').default(DEFAULT_OUT);

/** `--force`: the output rule (src/cli/output-rule.ts) lets a command replace what is not its own earlier output. */
const force = (what: string): Option => new Option('--force', `replace ${what} (never a run's files, a checkpoint or another command's output folder)`);

/** Where sample and eval run the model. */
const engineOption = (): Option =>
  new Option('--engine <engine>', 'tfjs: the tfjs interpreters; onnx: the exported graphs on onnxruntime-node (an optional dependency), same noise and schedule').choices(engines).default('tfjs');

const configFrom = async (o: { config?: string; preset?: string; name?: string; steps?: number }): Promise<RunConfig> => {
  if ((o.config === undefined) === (o.preset === undefined)) {
    throw new UsageError(`train: give exactly one of --config <file.json> or --preset <name> (presets: ${Object.keys(presets).join(', ')}).`);
  }
  const { checkRunName, readRunConfig } = await runDirs();
  let config: RunConfig;
  if (o.preset !== undefined) {
    const preset = presets[o.preset];
    if (preset === undefined) throw new UsageError(`Unknown preset '${o.preset}'. Presets: ${Object.keys(presets).join(', ')}.`);
    config = preset;
  } else {
    config = await readRunConfig(o.config as string, { strict: true });
  }
  checkRunName(o.name ?? config.name);
  return {
    ...config,
    ...(o.name === undefined ? {} : { name: o.name }),
    train: { ...config.train, ...(o.steps === undefined ? {} : { steps: o.steps }) },
  };
};

/** `--seeds <n>`: 1 to MAX_SEEDS runs, one per seed. */
const MAX_SEEDS = 100;
const seedsOption = (value: string): number => {
  const n = integer('seeds', 1)(value);
  if (n > MAX_SEEDS) throw new InvalidArgumentError(`seeds must be at most ${MAX_SEEDS}`);
  return n;
};

/** The options of `train`. */
interface TrainOptions {
  readonly config?: string;
  readonly preset?: string;
  readonly name?: string;
  readonly steps?: number;
  readonly seeds?: number;
  readonly resume?: boolean;
  readonly quiet?: boolean;
  readonly out: string;
  readonly engine: TrainEngine;
  readonly device?: 'cpu' | 'cuda';
  readonly nproc?: number;
  readonly python?: string;
}

/** Options of one engine given to the other: refused (exit 2) before anything is read. */
const checkEngineOptions = (o: Pick<TrainOptions, 'engine' | 'device' | 'nproc' | 'python'>): void => {
  const given = (['device', 'nproc', 'python'] as const).filter((k) => o[k] !== undefined).map((k) => `--${k}`);
  if (o.engine === 'tfjs' && given.length > 0) {
    throw new UsageError(`${given.join(', ')}: ${given.length === 1 ? 'an option' : 'options'} of --engine pytorch; add --engine pytorch to train on PyTorch, or drop ${given.length === 1 ? 'it' : 'them'}.`);
  }
  if (o.engine === 'pytorch' && program.opts<{ backend?: string }>().backend !== undefined) {
    throw new UsageError('--backend picks the tfjs backend of --engine tfjs; with --engine pytorch, torch trains (--device picks cpu or cuda): drop --backend.');
  }
};

/** The train command of the chosen engine (each loaded only when it runs). */
const trainerOf = async (o: TrainOptions) => {
  if (o.engine === 'tfjs') return (await import('./commands/train.js')).trainCommand;
  const { trainPyTorchCommand } = await import('./commands/train-pytorch.js');
  return (c: RunConfig, t: { out: string; resume: boolean; quiet: boolean }) =>
    trainPyTorchCommand(c, { ...t, device: o.device ?? 'cpu', nproc: o.nproc ?? 1, ...(o.python === undefined ? {} : { python: o.python }) });
};

program
  .command('train')
  .description('train CAFLOW (or Dual-Glow+) from a JSON config or a preset; Ctrl-C saves a checkpoint, --resume continues')
  .option('--config <file>', 'run config (JSON); see src/experiments/config.ts for the fields')
  .option('--preset <name>', `a preset: ${Object.keys(presets).join(', ')}`)
  .option('--name <name>', 'run name (directory under --out); default: the config\'s name')
  .option('--steps <n>', 'override the number of training steps', integer('steps', 1))
  .option('--seeds <n>', 'train n runs one after another, <name>-s<seed> with seed = the config\'s train.seed + 0, 1, ..., n - 1 (report groups them)', seedsOption)
  .option('--resume', 'continue the run from its checkpoint (with --seeds: continue the sweep; runs not started yet start)')
  .option('--quiet', 'no progress output')
  .addOption(
    new Option('--engine <engine>', 'tfjs: train in this process; pytorch: the exported train.py under torchrun (needs Python with torch; docs/scale-out.md), same run files')
      .choices(trainEngines)
      .default('tfjs'),
  )
  .addOption(new Option('--device <device>', 'with --engine pytorch: cpu (default; gloo between processes) or cuda (one GPU per process, nccl)').choices(['cpu', 'cuda']))
  .option('--nproc <n>', 'with --engine pytorch: training processes on this machine (default 1: plain Python; more: torchrun), each an equal share of every batch', integer('nproc', 1))
  .option('--python <path>', `with --engine pytorch: the Python that has torch (default: ${PYTHON_ENV_VAR}, else /usr/bin/python3, else python3 on PATH)`)
  .addOption(out())
  .action(async (o: TrainOptions) => {
    checkEngineOptions(o);
    const config = await configFrom(o);
    const { checkRunName, runDir } = await runDirs();
    const configs =
      o.seeds === undefined
        ? [config]
        : sweepSeeds(config.train.seed, o.seeds).map((seed): RunConfig => ({ ...config, name: seedRunName(config.name, seed), train: { ...config.train, seed } }));
    for (const c of configs) checkRunName(c.name);
    if (o.seeds !== undefined && o.resume !== true) {
      // Check the whole sweep before training any of it.
      const taken = configs.filter((c) => existsSync(runDir(o.out, c.name).checkpoint)).map((c) => c.name);
      if (taken.length > 0) throw new UsageError(`train --seeds: ${taken.map((n) => `'${n}'`).join(', ')} already hold${taken.length === 1 ? 's' : ''} a run under '${o.out}'. Pass --resume to continue the sweep, or choose another --name.`);
    }
    await backendOf(o.quiet === true);
    const train = await trainerOf(o);
    for (const c of configs) {
      const resume = o.resume === true && (o.seeds === undefined || existsSync(runDir(o.out, c.name).checkpoint));
      const s = await train(c, { out: o.out, resume, quiet: o.quiet === true });
      if (s.nothingToDo === true) {
        console.log(`${c.name}: already at step ${s.steps} of ${s.totalSteps}; nothing to do, nothing changed (pass --steps above ${s.steps} to train further)`);
        continue;
      }
      const progress = s.stepsThisRun === s.steps && s.steps === s.totalSteps ? '' : ` (now at step ${s.steps} of ${s.totalSteps})`;
      console.log(`${c.name}: ${s.stepsThisRun} steps in ${(s.seconds / 60).toFixed(1)} min${progress}, final loss ${s.finalLoss.toFixed(3)}${s.skipped > 0 ? `, ${s.skipped} non-finite steps skipped` : ''}${s.stopped ? ' (stopped early; --resume continues)' : ''}`);
      if (s.stopped && c !== configs[configs.length - 1]) {
        console.log(`${config.name}: sweep stopped; the remaining seeds were not trained (--seeds ${o.seeds} --resume continues the sweep)`);
        return;
      }
    }
    if (o.seeds !== undefined) {
      console.log(['next:', ...configs.map((c) => `  ${cliHint(['eval', '--name', c.name], o.out)}`), `  ${cliHint(['report', '--runs', config.name, '--output', `${config.name}-report.md`], o.out)}`].join('\n'));
    }
  });

program
  .command('eval')
  .description(
    'evaluate a trained run: held-out conditional NLL (bits/dim), best-of-M RMSE/PSNR/SSIM, diversity, a sample grid; ' +
      'LPIPS and FID of the best samples when you supply their pretrained networks (typed-flows downloads none)',
  )
  .requiredOption('--name <name>', 'the run to evaluate')
  .option('--lpips-weights <file.safetensors>', "LPIPS weights: the state_dict of lpips.LPIPS(net='alex') as safetensors (docs/experiments.md, \"LPIPS and FID\")")
  .option('--fid-model <model.json>', 'FID feature network: a TensorFlow.js graph- or layers-model (e.g. InceptionV3 pool3 from tensorflowjs_converter)')
  .option('--fid-range <lo,hi>', 'pixel range the FID network takes (0..255 is mapped to it)', pixelRange, [-1, 1] as PixelRange)
  .addOption(engineOption())
  .option('--quiet', 'no progress output (on stderr)')
  .addOption(out())
  .action(async (o: { name: string; out: string; lpipsWeights?: string; fidModel?: string; fidRange: PixelRange; engine: Engine; quiet?: boolean }) => {
    (await runDirs()).checkRunName(o.name);
    await backendOf(true);
    const { evalCommand } = await import('./commands/eval.js');
    const m = await evalCommand(o.out, o.name, {
      ...(o.lpipsWeights === undefined ? {} : { lpipsWeights: o.lpipsWeights }),
      ...(o.fidModel === undefined ? {} : { fidModel: o.fidModel }),
      fidRange: o.fidRange,
      engine: o.engine,
      progress: progressOf('eval', o.quiet === true),
    });
    const perceptual = `${m.lpips === null ? '' : `, LPIPS ${m.lpips.toFixed(4)}`}${m.fid === null ? '' : `, FID ${m.fid.toFixed(2)} (${m.perceptual.fidSamples} vs ${m.perceptual.fidSamples} images)`}`;
    // Two NLLs, two names: the bound (uniform dequantisation, the headline) and the mid-bin figure (u = 0.5, what train.py prints).
    console.log(`${o.name}: NLL bound ${m.bitsPerDim.toFixed(3)} ± ${m.nll.standardError.toFixed(3)} bits/dim (uniform dequantisation), mid-bin NLL ${m.nll.midBin.toFixed(3)} bits/dim (u = 0.5, not a bound), RMSE ${m.best.rmse.toFixed(2)}, PSNR ${m.best.psnr.toFixed(2)} dB, SSIM ${m.best.ssim.toFixed(3)}, diversity ${m.diversity.toFixed(2)}${perceptual}; grid ${m.grid}`);
    for (const note of m.perceptual.notComputed) console.log(`  ${note}`);
  });

program
  .command('sample')
  .description(
    'draw k samples for held-out conditions of a run, ranked by conditional log-likelihood, as a PNG grid; ' +
      'with --model instead of --name: --count draws from a model fitted by `typed-flows fit`, written as CSV rows to --output (with --context: --count draws per context row)',
  )
  .option('--name <name>', 'the run to sample from (give --name or --model)')
  .option('--model <model.safetensors>', 'a fitted distribution (the model.safetensors of `typed-flows fit`)')
  .option('--context <file>', 'with --model, for a conditional model: context rows, each given --count draws')
  .option('--k <n>', 'samples per condition', integer('k', 1), 8)
  .option('--count <n>', 'conditions (rows); with --model, draws (per context row)', integer('count', 1), 8)
  .option('--temperature <t>', 'sampling temperature (default: the config\'s)', positive)
  .option('--seed <n>', 'seed', integer('seed', 0), 0)
  .option('--output <file>', 'where to write the grid (.png; default: samples-k<k>-t<temperature>.png in the run), or with --model the draws (.csv, required)')
  .addOption(force('an existing file that is not an earlier output of sample (a grid, or a table of draws)'))
  .addOption(engineOption())
  .addOption(out())
  .action(async (o: { name?: string; model?: string; context?: string; k: number; count: number; temperature?: number; seed: number; output?: string; out: string; engine: Engine; force?: boolean }) => {
    if ((o.name === undefined) === (o.model === undefined)) throw new UsageError('sample: give exactly one of --name <run> (a CAFLOW run) or --model <model.safetensors> (a distribution fitted by typed-flows fit).');
    if (o.model !== undefined) {
      if (o.output === undefined) throw new UsageError('sample: with --model, pass --output <file.csv> for the draws.');
      if (o.temperature !== undefined) throw new UsageError('sample: --temperature applies to CAFLOW runs (--name) only.');
      await backendOf(true);
      const { sampleModelCommand } = await import('./commands/sample-model.js');
      const r = await sampleModelCommand({ model: o.model, count: o.count, output: o.output, seed: o.seed, ...(o.context === undefined ? {} : { context: o.context }), ...(o.force === true ? { force: true } : {}) });
      console.log(`${o.output}: ${r.rows} draws of ${r.width} numbers from ${o.model} (seed ${o.seed})`);
      return;
    }
    if (o.context !== undefined) throw new UsageError('sample: --context applies to a fitted model (--model); a CAFLOW run samples its held-out conditions.');
    const name = o.name as string;
    (await runDirs()).checkRunName(name);
    await backendOf(true);
    const { sampleCommand } = await import('./commands/sample.js');
    console.log(await sampleCommand(o.out, name, o));
  });

program
  .command('logprob')
  .description('the mean negative log-likelihood per row (nats) of rows under a model fitted by `typed-flows fit`, with its standard error')
  .requiredOption('--model <model.safetensors>', 'a fitted distribution (the model.safetensors of `typed-flows fit`)')
  .requiredOption('--data <file>', 'rows of numbers (CSV or JSON), the columns the model was fitted on')
  .option('--context <file>', 'for a conditional model: context rows aligned with --data')
  .option('--json', 'print {"nll", "standardError", "rows"} as JSON')
  .option('--per-row <file.csv>', "write each row's log p (nats) to a CSV file")
  .addOption(force('an existing file given to --per-row that is not an earlier table of typed-flows\''))
  .action(async (o: { model: string; data: string; context?: string; json?: boolean; perRow?: string; force?: boolean }) => {
    await backendOf(true);
    const { logprobCommand } = await import('./commands/logprob.js');
    const r = await logprobCommand({ model: o.model, data: o.data, ...(o.context === undefined ? {} : { context: o.context }), ...(o.perRow === undefined ? {} : { perRow: o.perRow }), ...(o.force === true ? { force: true } : {}) });
    console.log(o.json === true ? JSON.stringify(r) : `NLL ${r.nll.toFixed(4)} ± ${r.standardError.toFixed(4)} nats per row (${r.rows} rows)`);
  });

program
  .command('c2st')
  .description("classifier two-sample test (sbibm's: an MLP with two hidden layers of 10 * dim units, 5-fold, on samples z-scored by the first's statistics): mean held-out accuracy, 0.5 when indistinguishable")
  .argument('<a>', 'the first sample (CSV or JSON rows), e.g. reference draws')
  .argument('<b>', 'the second sample, same columns, e.g. `typed-flows sample --model` draws')
  .option('--seed <n>', 'seed of the folds and the classifier', integer('seed', 0), 1)
  .option('--json', 'print {"accuracy", "foldAccuracies", "rows"} as JSON')
  .action(async (a: string, b: string, o: { seed: number; json?: boolean }) => {
    await backendOf(true);
    const { c2stCommand } = await import('./commands/c2st.js');
    const r = await c2stCommand(a, b, o.seed);
    console.log(
      o.json === true
        ? JSON.stringify({ accuracy: r.accuracy, foldAccuracies: r.foldAccuracies, rows: r.rows })
        : `C2ST accuracy ${r.accuracy.toFixed(4)} (folds ${r.foldAccuracies.map((v) => v.toFixed(3)).join(', ')}; ${r.rows[0]} vs ${r.rows[1]} rows of ${r.width})`,
    );
  });

program
  .command('export')
  .description(
    "write a run's trained model: by default the model file without optimizer state (a third of the size: what eval, sample and the browser playground need); " +
      'with --format onnx one of its CAFLOW graphs as an ONNX model (docs/export.md); with --format pytorch a folder that trains and evaluates the run in PyTorch (docs/scale-out.md). ' +
      'With --model instead of --name: a distribution fitted by `typed-flows fit` as an ONNX graph (--format onnx, --direction logprob or sample) or as PyTorch code (--format pytorch: a folder with model.py and model.safetensors)',
  )
  .option('--name <name>', 'the run to export (give --name or --model)')
  .option('--model <model.safetensors>', 'a fitted distribution (the model.safetensors of `typed-flows fit`) to export with --format onnx or pytorch')
  .requiredOption('--output <path>', 'where to write: the model file (.safetensors, or .onnx with --format onnx), or the folder for --format pytorch')
  .addOption(
    new Option('--format <format>', 'safetensors: the model file; onnx: an ONNX graph (opset 17); pytorch: model.py, train.py (torchrun), checkpoint, config and data')
      .choices([...exportFormats, 'pytorch'])
      .default('safetensors'),
  )
  .addOption(
    new Option(
      '--direction <graph>',
      'with --format onnx: for --name, sample (Y + noise -> k ranked samples and log p(W|Y)), likelihood (W, Y -> log p(W|Y)), forward (W, Y -> latents) or inverse (latents, Y -> W); ' +
        'for --model, logprob (x -> log p(x)) or sample (the base\'s noise -> x and log p(x)); default sample',
    ).choices([...new Set([...caflowDirections, ...distributionDirections])]),
  )
  .option('--k <n>', "with --format onnx --direction sample: samples per condition (default: the run's eval.samples)", integer('k', 1))
  .addOption(force('an existing file that is not an earlier export of the same format, or an earlier PyTorch export folder'))
  .option('--quiet', 'no progress output (on stderr)')
  .addOption(out())
  .action(async (o: { name?: string; model?: string; output: string; out: string; format: ExportFormat | 'pytorch'; direction?: CaflowDirection | DistributionDirection; k?: number; force?: boolean; quiet?: boolean }) => {
    if ((o.name === undefined) === (o.model === undefined))
      throw new UsageError('export: give exactly one of --name <run> (a CAFLOW run) or --model <model.safetensors> (a distribution fitted by typed-flows fit).');
    if (o.model !== undefined) {
      const { checkModelExport, exportDistributionCommand, exportDistributionPyTorchCommand } = await import('./commands/export-distribution.js');
      const chosen = checkModelExport({ ...o, model: o.model });
      await backendOf(true);
      const r =
        chosen.format === 'onnx' ? await exportDistributionCommand(o.model, o.output, chosen.direction, o.force === true) : await exportDistributionPyTorchCommand(o.model, o.output, o.force === true);
      console.log(`${o.output}: the distribution fitted in '${o.model}', ${r.what} (parameters of step ${r.step}), ${(r.bytes / 1e6).toFixed(2)} MB`);
      return;
    }
    const name = o.name as string;
    (await runDirs()).checkRunName(name);
    if (o.direction === 'logprob') throw new UsageError("export: --direction logprob is for a fitted distribution (--model); a CAFLOW run's log-density graph is --direction likelihood.");
    const direction = o.direction as CaflowDirection | undefined;
    await backendOf(true);
    if (o.format === 'pytorch') {
      if (direction !== undefined || o.k !== undefined) throw new UsageError('export: --direction and --k apply to --format onnx only (the pytorch export writes the whole model).');
      const { exportPyTorchCommand } = await import('./commands/export-pytorch.js');
      const r = await exportPyTorchCommand(o.out, name, o.output, o.force === true, progressOf('export', o.quiet === true));
      console.log(`${o.output}: run '${name}' (${r.task}) at step ${r.step} for PyTorch (${r.files.join(', ')}; ${r.trainPairs} training and ${r.valPairs} validation pairs)`);
      console.log(['next:', ...pytorchExportHints(o.output, name, o.out).map((h) => `  ${h}`)].join('\n'));
      return;
    }
    const { exportCommand } = await import('./commands/export.js');
    const r = await exportCommand(o.out, name, o.output, {
      format: o.format,
      ...(direction === undefined ? {} : { direction }),
      ...(o.k === undefined ? {} : { k: o.k }),
      ...(o.force === true ? { force: true } : {}),
      progress: progressOf('export', o.quiet === true),
    });
    console.log(`${o.output}: run '${name}' (${r.task}), ${r.what} at step ${r.step}, ${(r.bytes / 1e6).toFixed(2)} MB`);
  });

program
  .command('report')
  .description('a markdown report comparing evaluated runs')
  .requiredOption('--runs <names...>', 'evaluated runs to compare; a name with no run of its own stands for its seed sweep <name>-s<seed>. Runs <name>-s<seed> are grouped by <name> into models: mean ± std over seeds, paired differences between models (same seed paired)')
  .requiredOption('--output <file.md>', 'where to write the report (its .json twin goes beside it: r.md -> r.json, other names get .json appended)')
  .addOption(force('existing files that are not an earlier report'))
  .addOption(out())
  .action(async (o: { runs: string[]; output: string; out: string; force?: boolean }) => {
    const { reportCommand } = await import('./commands/report.js');
    await reportCommand(o.out, o.runs, o.output, undefined, o.force === true ? { force: true } : {});
    console.log(o.output);
  });

const fraction = (value: string): number => {
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('must be a number in [0, 1)');
  return n;
};

program
  .command('import')
  .description('make a run of a checkpoint trained elsewhere (e.g. by the train.py of export --format pytorch), checked tensor by tensor against its config; then eval, sample and train --resume work on it')
  .requiredOption('--checkpoint <file.safetensors>', 'the checkpoint to import')
  .requiredOption('--name <name>', 'the new run')
  .option('--config <config.json>', 'its run config (default: config.json beside the checkpoint)')
  .option('--quiet', 'no progress output (on stderr)')
  .addOption(out())
  .action(async (o: { checkpoint: string; name: string; config?: string; out: string; quiet?: boolean }) => {
    (await runDirs()).checkRunName(o.name);
    await backendOf(true);
    const { importCommand } = await import('./commands/import.js');
    const r = await importCommand(o.out, o.name, o.checkpoint, o.config, progressOf('import', o.quiet === true));
    console.log(`${r.name}: imported at step ${r.step} (${r.losses} losses in its history); next: ${cliHint(['eval', '--name', r.name], o.out)}`);
  });

program
  .command('fit')
  .description(
    'fit a density to rows of numbers (CSV or JSON) by maximum likelihood: a preset (nsf, maf, realnvp: flows sized from the data; gaussian, gmm: by EM) or a flow spec, ' +
      'standardised by default, beside a Gaussian and the best Gaussian mixture (k <= 10); writes model.safetensors, report.md (held-out NLL with standard errors), history.json and, for 2-D data, density.png',
  )
  .option('--flow <preset|spec.json>', `a preset (${modelPresetNames.join(', ')}) or a flow spec (JSON) whose input is one event per row, e.g. [2] for 2-D points`, 'nsf')
  .requiredOption('--data <file>', 'rows of numbers: .json (an array of arrays) or CSV (one row per line, optional header)')
  .option('--test <file>', 'held-out rows to score the model and the baselines on (default: the validation rows)')
  .option('--context <file>', 'context rows aligned with --data: fit p(x | context) (a flow preset or a spec with one conditioning input)')
  .option('--test-context <file>', 'context rows aligned with --test (a conditional fit)')
  .option('--steps <n>', 'maximum training steps (default 3000; 10000 with --objective flow-matching)', integer('steps', 1))
  .option('--batch <n>', 'rows per step', integer('batch', 1), 256)
  .option('--lr <rate>', 'peak Adam learning rate (linear warm-up, then cosine decay)', positive, 2e-3)
  .option('--seed <n>', 'seed of the initialisation, split, batches, EM and samples', integer('seed', 0), 0)
  .option('--validation <fraction>', 'fraction of rows held out for validation and early stopping (default 20%, at least min(100, n/2) rows, at most 10,000)', fraction)
  .option('--patience <n>', 'evaluations without improvement before stopping (default 10; 1000 with --objective flow-matching, whose validation NLL is noisy: docs/continuous.md)', integer('patience', 1))
  .option('--eval-every <n>', 'steps between validation evaluations', integer('eval-every', 1), 50)
  .option('--noise <std>', 'Gaussian noise on each training minibatch of a likelihood fit, in standard deviations of each column (default 0.05 at 2,000 rows, less with more rows; 0 turns it off)', nonNegative)
  .option('--averaging <decay>', 'decay of the running average of the parameters that a likelihood fit validates and keeps (default 0.995; 0 keeps the last iterate)', fraction)
  .option('--no-standardize', 'fit the rows as they are (default: a frozen per-column location and scale from the training rows, saved in the model)')
  .addOption(
    new Option('--base <base>', "a flow's base distribution: normal (N(0, I)), gmm (a learnt Gaussian mixture started at the best baseline mixture) or t (Student-t's with learnt degrees of freedom: heavy tails)")
      .choices(['normal', 'gmm', 't'])
      .default('normal'),
  )
  .addOption(
    new Option('--objective <objective>', 'likelihood (maximum likelihood) or flow-matching (a flow ending in a cnf, e.g. --flow cnf: trains its vector field without solving the ODE)')
      .choices(['likelihood', 'flow-matching'])
      .default('likelihood'),
  )
  .addOption(new Option('--pairing <pairing>', 'flow matching: pair noise and rows independently, or by minibatch optimal transport (ot)').choices(['independent', 'ot']).default('independent'))
  .addOption(
    new Option('--engine <engine>', 'tfjs: the training loop in this process; pytorch: the same loop in the shipped fit.py on torch (needs Python with torch; docs/density.md), same outputs')
      .choices(trainEngines)
      .default('tfjs'),
  )
  .addOption(new Option('--device <device>', 'with --engine pytorch: cpu (default) or cuda').choices(['cpu', 'cuda']))
  .option('--python <path>', `with --engine pytorch: the Python that has torch (default: ${PYTHON_ENV_VAR}, else /usr/bin/python3, else python3 on PATH)`)
  .option('--output <dir>', 'output folder (new or empty)', 'fit-output')
  .addOption(force('an earlier fit\'s folder, or write into a folder holding other files'))
  .option('--quiet', 'no progress output')
  .action(
    async (o: {
      flow: string;
      data: string;
      test?: string;
      context?: string;
      testContext?: string;
      steps?: number;
      batch: number;
      lr: number;
      seed: number;
      validation?: number;
      patience?: number;
      evalEvery: number;
      noise?: number;
      averaging?: number;
      standardize: boolean;
      base: 'normal' | 'gmm' | 't';
      objective: 'likelihood' | 'flow-matching';
      pairing: 'independent' | 'ot';
      output: string;
      quiet?: boolean;
      force?: boolean;
      engine: TrainEngine;
      device?: 'cpu' | 'cuda';
      python?: string;
    }) => {
      checkEngineOptions(o);
      await backendOf(true);
      const [{ fitCommand }, { TrainingDivergedError }] = await Promise.all([import('./commands/fit.js'), import('../training/step.js')]);
      let done;
      try {
        // Flow matching improves the likelihood slowly and noisily: a longer budget, and early stopping all but off (docs/continuous.md, measured).
        const matching = o.objective === 'flow-matching';
        done = await fitCommand({ ...o, steps: o.steps ?? (matching ? 10_000 : 3000), patience: o.patience ?? (matching ? 1000 : 10), quiet: o.quiet === true });
      } catch (e) {
        if (!(e instanceof TrainingDivergedError)) throw e;
        console.error(`typed-flows: ${e.message}`);
        process.exitCode = 1;
        return;
      }
      const { result: r, files, scores, heldOut } = done;
      if (r !== undefined) {
        const val = r.validationNll === undefined ? '' : `, validation NLL ${r.validationNll.toFixed(4)}`;
        console.log(`${r.steps} steps${r.stoppedEarly ? ' (stopped early)' : ''}; kept the parameters of step ${r.bestStep}: train NLL ${r.trainNll.toFixed(4)}${val} nats per row at that step`);
      }
      for (const s of scores) {
        const paired = s.modelMinusThis === undefined ? '' : `; the model minus this: ${s.modelMinusThis.mean.toFixed(4)} ± ${s.modelMinusThis.standardError.toFixed(4)}`;
        console.log(`${heldOut} NLL ${s.nll.toFixed(4)} ± ${s.standardError.toFixed(4)} nats per row (${s.rows} rows): ${s.name}${paired}`);
      }
      console.log(`wrote ${files.join(', ')}`);
    },
  );

program
  .command('demo')
  .description('the main job: train CAFLOW and Dual-Glow+ on bundled MNIST super-resolution, evaluate, and write runs/demo/report.md')
  .option('--steps <n>', 'training steps per model (default: the mnist-sr preset\'s)', integer('steps', 1))
  .option('--limit <n>', 'digits to use (of 10,000)', integer('limit', 16))
  .option('--seeds <n>', 'seeds per model: runs demo-caflow-s<seed> and demo-dualglow-s<seed>, and the report gives mean ± std and paired differences (each seed takes as long as the one-seed demo)', seedsOption, 1)
  .addOption(out())
  .action(async (o: { steps?: number; limit?: number; seeds: number; out: string }) => {
    const backend = await backendOf(false);
    const { demoCommand } = await import('./commands/demo.js');
    await demoCommand({ out: o.out, backend, seeds: o.seeds, ...(o.steps === undefined ? {} : { steps: o.steps }), ...(o.limit === undefined ? {} : { limit: o.limit }) });
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // --help, --version and option errors (commander printed them) end here without loading the error mapping and its imports.
  const { code, message } = e instanceof CommanderError ? commanderExit(e) : (await import('./errors.js')).describeError(e);
  if (message !== '') console.error(message);
  process.exitCode = code;
}
