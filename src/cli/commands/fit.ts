/**
 * `typed-flows fit`: maximum-likelihood fit of a density to rows of numbers, beside its baselines.
 *
 * The model is a preset (`nsf`, `maf`, `realnvp`: a flow chosen from the data's size, see
 * src/distributions/presets.ts; `gaussian`, `gmm`: fitted by EM) or a flow spec file; a flow's
 * distribution is `transformed(standardNormals(<its output shapes>), flow)`. By default it is wrapped
 * in `standardized` (per-column location and scale of the training rows, frozen and saved with the
 * model, so log-densities stay in the data's units); `--no-standardize` turns that off. With
 * `--context` the fit is conditional: p(x | c), each row's context the same row of the context file.
 *
 * The rows are split into training and validation rows (fit's seeded split); the full-covariance
 * Gaussian and the best Gaussian mixture (k = 1..10 by EM, k chosen on the validation rows) are fitted
 * on the same training rows, and all are scored on held-out rows: the `--test` file when given, else
 * the validation rows. Writes to the output folder:
 *   model.safetensors  the distribution's spec (metadata "spec") and parameters,
 *   report.md          data, split, held-out NLL with standard errors of the model and the baselines,
 *                      steps, the spline-tail share, the layer table,
 *   history.json       the training and validation curves,
 *   density.png        for unconditional 2-D data: exp(log p) on a grid, the data, and samples.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { disposeBaselines, fitMixtureBaselines, type MixtureBaselines } from '../../distributions/baselines.js';
import { nllWithError } from '../../distributions/em.js';
import { defaultValidationRows, fit, gatherRows, logProbRows, splitRows, type FitProgress, type FitResult } from '../../distributions/fit.js';
import { logProb, sample, samplingCost } from '../../distributions/interpret.js';
import { encodeDistributionModel } from '../../distributions/model.js';
import { flowMatchingPlan } from '../../distributions/flow-matching.js';
import { summaryRows } from '../../interpreters/summary.js';
import { CONDITIONAL_PARAMETERS_PER_ROW, flowPresets, modelPresets, presetFlow, presetRegularisation, presetSettings, presetWidth, type FlowPreset, type ModelPreset, type PresetRegularisation } from '../../distributions/presets.js';
import { gaussianMixture, standardized, standardNormals, studentT, transformed, type AnyDistribution } from '../../distributions/spec.js';
import { splineBound, tailShare } from '../../distributions/tails.js';
import { disposeParams, type ParamTree } from '../../dsl/params.js';
import { formatShape, sizeOf, type CondShapes } from '../../dsl/shape.js';
import { signature } from '../../dsl/signature.js';
import type { AnyFlow } from '../../dsl/spec.js';
import { summary } from '../../interpreters/summary.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import { writeDensityPlot } from '../../node/density-plot.js';
import { writeFigure } from '../../node/figure.js';
import { nllComparisonSpec } from '../../plots/nll-comparison.js';
import { CouldNotRunError, readSpecFile, UsageError } from '../io.js';
import { checkOutput } from '../output-rule.js';
import { checkPyTorchFit, fitOnPyTorch, torchPythonFor } from './fit-pytorch.js';
import { readPointsFile, type Points } from '../points.js';

export interface FitCommandOptions {
  /** A preset name (nsf, maf, realnvp, gaussian, gmm) or a flow spec file. */
  readonly flow: string;
  readonly data: string;
  /** Rows scored after the fit (same columns as --data). */
  readonly test?: string;
  /** Context rows aligned with --data (a conditional fit), and with --test. */
  readonly context?: string;
  readonly testContext?: string;
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly seed: number;
  readonly output: string;
  /** Fraction of rows for validation; undefined: fit's default (20%, at least min(100, n/2), at most 10,000). */
  readonly validation?: number;
  readonly patience: number;
  readonly evalEvery: number;
  readonly standardize: boolean;
  /**
   * A flow's base: 'normal' (N(0, I)) or 'gmm' (a learnt Gaussian mixture with the best baseline's k,
   * started by EM on all the training rows: the flow starts as that mixture, so the checkpoint chosen
   * on validation is never worse than it there) or 't' (independent Student-t's with learnt degrees of
   * freedom per dimension: heavy tails). Default 'normal'.
   */
  readonly base?: 'normal' | 'gmm' | 't';
  /** 'likelihood' (default) or 'flow-matching' (a flow ending in a cnf: src/distributions/flow-matching.ts). */
  readonly objective?: 'likelihood' | 'flow-matching';
  /** Flow matching's pairing of noise and rows: 'independent' (default) or 'ot' (minibatch optimal transport). */
  readonly pairing?: 'independent' | 'ot';
  /**
   * Noise regularisation of a likelihood fit of a flow, in standard deviations of each column (0: none);
   * default `presetRegularisation`'s for the data's dimension and training rows.
   */
  readonly noise?: number;
  /** Decay of the parameter average a likelihood fit of a flow keeps (0: the last iterate); default 0.995. */
  readonly averaging?: number;
  readonly quiet: boolean;
  /** Who runs the training loop: tfjs (default, in this process) or pytorch (fit.py: src/cli/commands/fit-pytorch.ts). */
  readonly engine?: 'tfjs' | 'pytorch';
  /** With engine pytorch: cpu (default) or cuda. */
  readonly device?: 'cpu' | 'cuda';
  /** With engine pytorch: the Python that has torch. */
  readonly python?: string;
  /** Replace an earlier fit's folder, or write into a folder holding other files. */
  readonly force?: boolean;
}

/** Held-out NLL (nats per row) of one model, with its standard error. */
export interface HeldOutScore {
  readonly name: string;
  readonly nll: number;
  readonly standardError: number;
  readonly rows: number;
  /**
   * For a baseline: mean over the rows of (the model's NLL - this one's) with its standard error
   * (paired on the same rows, so far tighter than the two errors): negative when the model is better.
   */
  readonly modelMinusThis?: { readonly mean: number; readonly standardError: number };
}

export interface FitCommandResult {
  readonly result: Omit<FitResult, 'params' | 'split'> | undefined;
  readonly files: readonly string[];
  readonly dims: number;
  /** The model's, the Gaussian's and the best mixture's held-out scores (the model first). */
  readonly scores: readonly HeldOutScore[];
  /** Where the scores come from. */
  readonly heldOut: 'test' | 'validation';
  /** Share of the training rows beyond the smallest spline bound (undefined without spline layers). */
  readonly tailShare: number | undefined;
}

/** Above this share of rows in a spline's identity tails, fit warns. */
const TAIL_WARNING = 0.01;


const fmt = (v: number | undefined, digits = 4): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));

const isModelPreset = (s: string): s is ModelPreset => (modelPresets as readonly string[]).includes(s);
const isFlowPreset = (s: string): s is FlowPreset => (flowPresets as readonly string[]).includes(s);

/** The single context input a conditional fit feeds: its name and width. */
const CONTEXT = 'context';

/** The flow: a preset, or the spec file checked against the data (and the context). */
const flowOf = async (o: FitCommandOptions, width: number, trainRows: number, contextWidth: number | undefined): Promise<{ flow: AnyFlow; contextName: string | undefined }> => {
  const cond: CondShapes = contextWidth === undefined ? {} : { [CONTEXT]: [contextWidth] };
  if (isFlowPreset(o.flow)) return { flow: presetFlow(o.flow, width, trainRows, cond), contextName: contextWidth === undefined ? undefined : CONTEXT };
  const flow = (await readSpecFile(o.flow)) as AnyFlow;
  const sig = signature(flow);
  if (sig.ins.length !== 1) throw new UsageError(`'${o.flow}' takes ${sig.ins.length} input tensors; fit takes flows with one input (one event per row).`);
  const dims = sizeOf(sig.ins[0] as readonly number[]);
  if (width !== dims) {
    throw new UsageError(
      `'${o.flow}' takes events of shape ${formatShape(sig.ins[0] as readonly number[])} (${dims} number${dims === 1 ? '' : 's'} per row) but '${o.data}' has ${width} number${width === 1 ? '' : 's'} per row. ` +
        `Declare the flow's input as [${width}] or pass data with ${dims} columns.`,
    );
  }
  const names = Object.keys(sig.cond);
  if (contextWidth === undefined) {
    if (names.length > 0) throw new UsageError(`'${o.flow}' is conditional (on ${names.join(', ')}); pass its context rows with --context <file>.`);
    return { flow, contextName: undefined };
  }
  const shape = names.length === 1 ? sig.cond[names[0] as string] : undefined;
  if (shape === undefined || shape.length !== 1 || shape[0] !== contextWidth) {
    throw new UsageError(`--context has ${contextWidth} numbers per row; '${o.flow}' must then take exactly one conditioning input of shape [${contextWidth}] (it takes ${names.length === 0 ? 'none' : names.map((n) => `${n} ${formatShape(sig.cond[n] as readonly number[])}`).join(', ')}).`);
  }
  return { flow, contextName: names[0] };
};

const readAligned = async (file: string | undefined, rows: number, what: string, against: string): Promise<Points | undefined> => {
  if (file === undefined) return undefined;
  const p = await readPointsFile(file);
  if (p.rows !== rows) throw new UsageError(`'${file}' (${what}) has ${p.rows} rows but '${against}' has ${rows}; row i of each must belong together.`);
  return p;
};

export const fitCommand = async (o: FitCommandOptions): Promise<FitCommandResult> => {
  // Before reading anything, so a run is not lost to an output folder that cannot be written.
  checkOutput({ command: 'fit', option: '--output', path: o.output, kind: 'fit folder', ...(o.force === true ? { force: true } : {}) });
  if (!isModelPreset(o.flow) && /^[a-z]+$/.test(o.flow) && !o.flow.includes('.')) {
    // A bare word that is no preset is more likely a typo than a spec file without an extension.
    throw new UsageError(`--flow '${o.flow}' is neither a preset (${modelPresets.join(', ')}) nor a spec file (*.json).`);
  }
  if (o.engine === 'pytorch') {
    checkPyTorchFit(o);
    if (o.flow === 'gaussian' || o.flow === 'gmm') throw new UsageError(`--flow ${o.flow} is fitted by EM in this process; --engine pytorch trains flows (${flowPresets.join(', ')} or a spec file): drop --engine pytorch.`);
  }
  const points = await readPointsFile(o.data);
  if (points.rows < 2) throw new UsageError(`'${o.data}' has ${points.rows} row; fit needs at least 2.`);
  const d = points.width;
  const context = await readAligned(o.context, points.rows, 'context', o.data);
  const test = o.test === undefined ? undefined : await readPointsFile(o.test);
  if (test !== undefined && test.width !== d) throw new UsageError(`'${o.test}' has ${test.width} numbers per row but '${o.data}' has ${d}; the test rows must have the same columns.`);
  if (context !== undefined && test !== undefined && o.testContext === undefined) throw new UsageError('a conditional fit (--context) scores --test rows given their context: pass --test-context <file> too.');
  const testContext = test === undefined ? undefined : await readAligned(o.testContext, test.rows, 'test context', o.test as string);
  if (context !== undefined && (o.flow === 'gaussian' || o.flow === 'gmm')) throw new UsageError(`--flow ${o.flow} fits p(x) without a context; a conditional fit (--context) takes a flow (${flowPresets.join(', ')} or a spec file).`);

  const nVal = o.validation === undefined ? defaultValidationRows(points.rows) : Math.floor(points.rows * o.validation);
  const nTrain = points.rows - nVal;
  const { flow, contextName } = o.flow === 'gaussian' || o.flow === 'gmm' ? { flow: undefined, contextName: undefined } : await flowOf(o, d, nTrain, context?.width);
  if (o.objective === 'flow-matching') {
    // Refused before any work: flow matching trains the cnf that ends a flow over a normal base.
    if (flow === undefined || o.base === 'gmm' || o.base === 't') throw new UsageError(`fit: --objective flow-matching trains a flow ending in a cnf over the normal base (e.g. --flow cnf); got --flow ${o.flow}${o.base !== undefined && o.base !== 'normal' ? ` with --base ${o.base}` : ''}.`);
    try {
      flowMatchingPlan(transformed(standardNormals(signature(flow).outs), flow) as AnyDistribution);
    } catch (e) {
      throw new UsageError(`fit: ${(e as Error).message}; --flow cnf is such a flow.`);
    }
  }
  // The flow as PyTorch code, refused (naming what it cannot write) before any work.
  if (o.engine === 'pytorch' && flow !== undefined) checkPyTorchFit(o, transformed(standardNormals(signature(flow).outs), flow) as AnyDistribution);
  const python = o.engine === 'pytorch' ? torchPythonFor(o) : undefined;
  // Before training, so a run is not lost to an output folder that cannot be made.
  await mkdir(o.output, { recursive: true });

  const data = tf.tensor2d(points.values, [points.rows, d]);
  const ctxAll = context === undefined || contextName === undefined ? {} : { [contextName]: tf.tensor2d(context.values, [context.rows, context.width]) };
  const split = splitRows(points.rows, nVal, o.seed);
  const [trainX, valX] = [gatherRows([data], split.train)[0] as tf.Tensor2D, gatherRows([data], split.validation)[0] as tf.Tensor2D];
  const started = Date.now();
  let baselines: MixtureBaselines | undefined;
  let model: { dist: AnyDistribution; params: ParamTree } | undefined;
  let r: FitResult | undefined;
  let regularisation: PresetRegularisation | undefined;
  const heldOutX = test === undefined ? valX : tf.tensor2d(test.values, [test.rows, d]);
  const heldOutCtx =
    contextName === undefined ? {} : test === undefined ? { [contextName]: gatherRows([ctxAll[contextName] as tf.Tensor], split.validation)[0] as tf.Tensor } : { [contextName]: tf.tensor2d((testContext as Points).values, [(testContext as Points).rows, (testContext as Points).width]) };
  try {
    // The baselines are models of x alone: for a conditional fit they are left out (not comparable).
    if (contextName === undefined) baselines = fitMixtureBaselines(trainX, valX, { standardize: o.standardize, seed: o.seed });
    if (flow === undefined) {
      const b = baselines as MixtureBaselines;
      model = o.flow === 'gaussian' ? b.gaussian : b.best;
    } else {
      const outs = signature(flow).outs;
      const vectorOut = outs.length === 1 && (outs[0] as readonly number[]).length === 1 ? ((outs[0] as readonly number[])[0] as number) : undefined;
      if (o.base === 'gmm' && (vectorOut === undefined || baselines === undefined)) throw new UsageError('--base gmm takes an unconditional flow with one vector output ([D]).');
      if (o.base === 't' && vectorOut === undefined) throw new UsageError('--base t takes a flow with one vector output ([D]).');
      const base =
        o.base === 'gmm'
          ? (gaussianMixture([vectorOut as number], (baselines as MixtureBaselines).best.k) as AnyDistribution)
          : o.base === 't'
            ? (studentT([vectorOut as number]) as AnyDistribution)
            : (standardNormals(outs) as AnyDistribution);
      const inner = transformed(base, flow) as AnyDistribution;
      const dist = o.standardize ? (standardized(inner) as AnyDistribution) : inner;
      const report = o.quiet
        ? undefined
        : (p: Omit<FitProgress, 'params'>): void =>
            console.error(
              `step ${p.step}/${p.steps}${p.lr === undefined ? '' : ` (lr ${p.lr.toExponential(2)})`}: train NLL ${fmt(p.trainLoss)} (mean since the last report), ` +
                `validation NLL ${fmt(p.validationNll)} at step ${p.step}; best ${fmt(p.best)} at step ${p.bestStep ?? 'n/a'}${p.skipped > 0 ? `  (${p.skipped} skipped)` : ''}`,
            );
      // Flow matching regresses a vector field on its own noise: the likelihood's regularisers are left out.
      const preset = o.objective === 'flow-matching' ? { noise: 0, averaging: 0 } : presetRegularisation(d, nTrain);
      regularisation = { noise: o.noise ?? preset.noise, averaging: o.averaging ?? preset.averaging };
      const settings = {
        ...regularisation,
        steps: o.steps,
        batchSize: o.batch,
        lr: o.lr,
        seed: o.seed,
        ...(o.validation === undefined ? {} : { validationFraction: o.validation }),
        patience: o.patience,
        evalEvery: o.evalEvery,
        // Data-dependent initialisation on every training row, so a mixture base starts as the baseline's EM fit.
        initRows: nTrain,
      };
      r =
        python !== undefined
          ? await fitOnPyTorch(dist, data, settings, { device: o.device ?? 'cpu', cache: join(o.output, 'pytorch'), python }, report)
          : fit(dist, data, {
              ...settings,
              ctx: ctxAll as never,
              ...(o.objective === undefined ? {} : { objective: o.objective }),
              ...(o.pairing === undefined ? {} : { pairing: o.pairing }),
              onProgress: report,
            });
      model = { dist, params: r.params };
    }
    const seconds = (Date.now() - started) / 1000;
    const modelRows = logProbRows(model.dist, model.params, [heldOutX], heldOutCtx);
    const scoreOf = (name: string, m: { dist: AnyDistribution; params: ParamTree }): HeldOutScore => {
      const lp = logProbRows(m.dist, m.params, [heldOutX], {});
      // NLL_model - NLL_this = lp_this - lp_model, row by row.
      const paired = nllWithError(lp.map((v, i) => (modelRows[i] as number) - v));
      return { name, ...nllWithError(lp), modelMinusThis: { mean: paired.nll, standardError: paired.standardError } };
    };
    const modelName = flow === undefined ? (o.flow === 'gaussian' ? 'Gaussian (EM, k = 1)' : `Gaussian mixture (EM, k = ${(baselines as MixtureBaselines).best.k})`) : `flow (${o.flow})`;
    const scores: HeldOutScore[] = [{ name: modelName, ...nllWithError(modelRows) }];
    if (baselines !== undefined && flow !== undefined) {
      scores.push(scoreOf('Gaussian (full covariance)', baselines.gaussian));
      scores.push(scoreOf(`best Gaussian mixture (k = ${baselines.best.k} of 1..10, on validation)`, baselines.best));
    }
    const bound = flow === undefined ? undefined : splineBound(flow);
    const share = bound === undefined ? undefined : tailShare(standardizedRows(trainX, model, o.standardize), d, bound);
    if (share !== undefined && share > TAIL_WARNING && !o.quiet) {
      console.error(`typed-flows: warning: ${(100 * share).toFixed(1)}% of the training rows have a coordinate beyond the spline bound ±${bound}${o.standardize ? ' standard deviations' : ''}, in its identity tails; raise the bound${o.standardize ? '' : ' or standardise (drop --no-standardize)'}.`);
    }

    const files: string[] = [];
    const { params: _p, split: _s, ...result } = r ?? { params: undefined, split: undefined };
    const config = {
      command: 'fit',
      flow: o.flow,
      data: o.data,
      ...(o.test === undefined ? {} : { test: o.test }),
      ...(o.context === undefined ? {} : { context: o.context, contextName }),
      rows: points.rows,
      columns: points.columns ?? null,
      standardize: o.standardize,
      steps: o.steps,
      batch: o.batch,
      lr: o.lr,
      seed: o.seed,
      validationRows: nVal,
      patience: o.patience,
      ...(regularisation === undefined ? {} : regularisation),
      trainNll: r?.trainNll ?? null,
      validationNll: r?.validationNll ?? null,
      bestStep: r?.bestStep ?? 0,
      heldOut: { set: test === undefined ? 'validation' : 'test', scores },
    };
    const modelFile = join(o.output, 'model.safetensors');
    await writeCheckpointFile(modelFile, await encodeDistributionModel({ dist: model.dist, params: model.params, step: r?.bestStep ?? 0, config }));
    files.push(modelFile);
    if (r !== undefined) {
      const history = join(o.output, 'history.json');
      await writeFile(history, `${JSON.stringify(r.history)}\n`);
      files.push(history);
    }
    let image: string | undefined;
    if (d === 2 && contextName === undefined) {
      image = join(o.output, 'density.png');
      const shown = Math.min(points.rows, 2000);
      const drawn = sample(model.dist, model.params)(shown, { seed: o.seed + 1 }).x;
      const samples = drawn.dataSync() as Float32Array;
      drawn.dispose();
      const lp = logProb(model.dist, model.params);
      // A continuous flow solves an ODE per grid point (with the Jacobian for its log-det): a coarser grid.
      const odeFlow = flow !== undefined && (summaryRows(flow)[0]?.evaluations ?? 0) > 0;
      const mixture = baselines?.best;
      const mixtureLp = mixture === undefined || mixture === model ? undefined : logProb(mixture.dist, mixture.params);
      await writeDensityPlot(image, {
        logProb: (grid) => lp(grid as never),
        data: points.values.subarray(0, shown * 2),
        samples,
        ...(mixtureLp === undefined ? {} : { baseline: { title: `best Gaussian mixture (k = ${(baselines as MixtureBaselines).best.k})`, logProb: (grid: tf.Tensor2D) => mixtureLp(grid as never) } }),
        title: `${basename(o.flow)} fitted to ${basename(o.data)}`,
        ...(odeFlow ? { size: 32 } : {}),
      });
      files.push(image);
    }
    // The held-out comparison as a figure: the model beside its baselines, each with its standard error.
    let comparison: string | undefined;
    if (scores.length >= 2) {
      comparison = join(o.output, 'baselines.png');
      const set = test === undefined ? 'validation' : 'test';
      await writeFigure(
        comparison,
        nllComparisonSpec(
          scores.map((sc) => ({ model: sc.name, nll: sc.nll, standardError: sc.standardError })),
          { title: `Held-out NLL on the ${set} rows`, xTitle: 'held-out NLL (nats per row)' },
        ),
      );
      files.push(comparison);
    }
    const report = join(o.output, 'report.md');
    await writeFile(
      report,
      renderReport(o, {
        flow,
        regularisation,
        d,
        rows: points.rows,
        nTrain,
        nVal,
        result: r === undefined ? undefined : (result as Omit<FitResult, 'params' | 'split'>),
        seconds,
        image,
        comparison,
        cost: samplingCost(model.dist),
        scores,
        heldOut: test === undefined ? 'validation' : 'test',
        heldOutRows: heldOutX.shape[0],
        bound,
        share,
        baselines,
        contextName,
        contextWidth: context?.width,
      }),
    );
    files.push(report);
    return { result: r === undefined ? undefined : (result as Omit<FitResult, 'params' | 'split'>), files, dims: d, scores, heldOut: test === undefined ? 'validation' : 'test', tailShare: share };
  } finally {
    if (baselines !== undefined) disposeBaselines(baselines);
    if (r !== undefined) disposeParams(r.params);
    tf.dispose([data, trainX, valX, ...Object.values(ctxAll), ...Object.values(heldOutCtx)]);
    if (heldOutX !== valX) heldOutX.dispose();
  }
};

/** The training rows as the model's first layer sees them: standardised by its frozen location and scale, or as they are. */
const standardizedRows = (x: tf.Tensor2D, model: { dist: AnyDistribution; params: ParamTree }, standardize: boolean): Float32Array => {
  if (!standardize || model.dist.kind !== 'standardized') return x.dataSync() as Float32Array;
  const ev = (model.params as { events: Array<{ location: tf.Tensor; scale: tf.Tensor }> }).events[0] as { location: tf.Tensor; scale: tf.Tensor };
  return tf.tidy(() => tf.div(tf.sub(x, ev.location), ev.scale).dataSync() as Float32Array);
};

const renderReport = (
  o: FitCommandOptions,
  x: {
    flow: AnyFlow | undefined;
    regularisation: PresetRegularisation | undefined;
    d: number;
    rows: number;
    nTrain: number;
    nVal: number;
    result: Omit<FitResult, 'params' | 'split'> | undefined;
    seconds: number;
    image: string | undefined;
    comparison: string | undefined;
    cost: string;
    scores: readonly HeldOutScore[];
    heldOut: 'test' | 'validation';
    heldOutRows: number;
    bound: number | undefined;
    share: number | undefined;
    baselines: MixtureBaselines | undefined;
    contextName: string | undefined;
    contextWidth: number | undefined;
  },
): string => {
  const r = x.result;
  const lines = [
    `# Density fit: ${o.flow} on ${o.data}${x.contextName === undefined ? '' : ` given ${o.context}`}`,
    '',
    `${o.objective === 'flow-matching' ? 'Flow matching (NLLs by exact likelihood)' : 'Maximum likelihood'}; ${x.rows} rows of event shape [${x.d}], ${x.nTrain} for training and ${x.nVal} for validation (seed ${o.seed}); ` +
      (o.standardize ? 'standardised (location and scale of the training rows, frozen, part of the saved model: log-densities are in the data\'s units).' : 'not standardised (--no-standardize).'),
    '',
    `## Held-out NLL (${x.heldOut === 'test' ? `the ${x.heldOutRows} rows of ${o.test}` : `the ${x.heldOutRows} validation rows, which also chose the checkpoint and k: slightly optimistic; pass --test for an unbiased score`})`,
    '',
    '| model | NLL (nats per row) | standard error | NLL (nats per dimension) | the first model minus this one (paired standard error) |',
    '| --- | --- | --- | --- | --- |',
    ...x.scores.map(
      (s) => `| ${s.name} | ${fmt(s.nll)} | ${fmt(s.standardError)} | ${fmt(s.nll / x.d)} | ${s.modelMinusThis === undefined ? '' : `${fmt(s.modelMinusThis.mean)} (${fmt(s.modelMinusThis.standardError)})`} |`,
    ),
    '',
  ];
  if (x.contextName !== undefined) lines.push('A conditional fit p(x | context): the Gaussian and mixture baselines (models of x alone) are left out.', '');
  if (x.baselines !== undefined && x.baselines.validationNll.length > 0) {
    lines.push(`Gaussian mixtures by EM on the training rows, validation NLL for k = 1..${x.baselines.validationNll.length}: ${x.baselines.validationNll.map((v) => fmt(v, 3)).join(', ')}.`, '');
  }
  if (r !== undefined) {
    lines.push(
      '## Training',
      '',
      '| | NLL (nats per row) | NLL (nats per dimension) |',
      '| --- | --- | --- |',
      `| train (step ${r.bestStep}) | ${fmt(r.trainNll)} | ${fmt(r.trainNll / x.d)} |`,
      `| validation (step ${r.bestStep}) | ${fmt(r.validationNll)} | ${r.validationNll === undefined ? 'n/a' : fmt(r.validationNll / x.d)} |`,
      '',
      `- steps: ${r.steps} of ${o.steps}${r.stoppedEarly ? ` (stopped early: no validation improvement in ${o.patience} evaluations)` : ''}; the saved parameters are from step ${r.bestStep}, the best validation NLL`,
      `- batch ${o.batch}, Adam with peak lr ${o.lr}: linear warm-up, then cosine decay to lr/100 over ${o.steps} steps; evaluation every ${o.evalEvery} steps${r.skipped > 0 ? `, ${r.skipped} non-finite steps skipped` : ''}`,
    );
    const reg = x.regularisation;
    if (reg !== undefined && (reg.noise > 0 || reg.averaging > 0)) {
      lines.push(
        `- regularisation: ${reg.noise > 0 ? `Gaussian noise of ${fmt(reg.noise, 3)} standard deviations per column on each training minibatch` : 'no noise'}; ` +
          `${reg.averaging > 0 ? `the running average of the parameters (decay ${reg.averaging}) is what was validated and saved` : 'the last iterate was validated'} (--noise, --averaging)`,
      );
    }
  }
  if (isFlowPreset(o.flow)) {
    const s = presetSettings(x.d, x.nTrain);
    const w = presetWidth(o.flow, x.d, x.nTrain, x.contextWidth === undefined ? {} : { [CONTEXT]: [x.contextWidth] });
    const narrowed = x.contextWidth === undefined ? '' : ` (conditional: at most ${CONDITIONAL_PARAMETERS_PER_ROW} parameters per training row)`;
    lines.push(
      o.flow === 'cnf'
        ? `- preset cnf for D = ${x.d}, ${x.nTrain} training rows: one continuous flow, field hidden ${[w, w, w].join('x')}${narrowed}, RK4 with 16 steps`
        : `- preset ${o.flow} for D = ${x.d}, ${x.nTrain} training rows: ${s.layers} layers, hidden ${w}x${w}${narrowed}${o.flow === 'nsf' ? `, ${s.bins} bins, bound ${s.bound}` : ''}`,
    );
  }
  if (o.objective === 'flow-matching') {
    lines.push(`- objective: flow matching${o.pairing === 'ot' ? ' with minibatch optimal-transport pairing' : ''} (the NLLs above are exact log-likelihoods through the solver)`);
  }
  if (x.flow !== undefined) {
    const base = o.base === 'gmm' && x.baselines !== undefined ? `a learnt Gaussian mixture of ${x.baselines.best.k} components, started at the EM fit` : o.base === 't' ? "independent Student-t's with learnt degrees of freedom" : 'N(0, I)';
    lines.push(`- base: ${base}`);
  }
  if (x.bound !== undefined && x.share !== undefined) {
    lines.push(
      `- spline tails: ${(100 * x.share).toFixed(2)}% of the training rows have a coordinate beyond ±${x.bound}${o.standardize ? ' (standard deviations)' : ''}, where the splines are the identity${x.share > TAIL_WARNING ? ' — more than 1%: raise the bound' : ''}`,
    );
  }
  const samplingText = x.cost === 'integrated' ? 'an ODE solve (integrated)' : x.cost === 'sequential' ? 'sequential (one pass per dimension in an autoregressive layer)' : 'analytic (one pass)';
  lines.push(`- time: ${x.seconds.toFixed(1)} s; sampling is ${samplingText}`, '');
  if (x.comparison !== undefined) lines.push('![held-out NLL of the model and its baselines](baselines.png)', '');
  if (x.image !== undefined) {
    lines.push('![data, learnt density, samples and the best Gaussian mixture](density.png)', '', 'Panels: the data; the model\'s log p (nats) on a grid; samples from the model; the best Gaussian mixture\'s log p on the same colour scale (density.svg is the same figure as SVG).', '');
  }
  if (x.flow !== undefined) lines.push('## Flow', '', '```', summary(x.flow), '```', '');
  return lines.join('\n');
};
