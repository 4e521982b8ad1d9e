/**
 * `typed-flows fit`: maximum-likelihood fit of a flow to rows of numbers. The distribution is
 * `transformed(standardNormals(<the flow's output shapes>), flow)`; each row is one event (its
 * numbers in the channels-last order of the flow's input, so [D] for a vector flow). Writes to the
 * output folder:
 *   model.safetensors  the distribution's spec (metadata "spec") and parameters ("params.flow.…"),
 *   report.md          data, split, steps, train and validation NLL, the layer table,
 *   history.json       the training and validation curves,
 *   density.png        for 2-D data: exp(log p) on a grid, the data, and samples.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fit, type FitResult } from '../../distributions/fit.js';
import { logProb, sample, samplingCost } from '../../distributions/interpret.js';
import { standardNormals, transformed, type AnyDistribution } from '../../distributions/spec.js';
import { disposeParams } from '../../dsl/params.js';
import { formatShape, sizeOf, tensorShape } from '../../dsl/shape.js';
import { signature } from '../../dsl/signature.js';
import type { AnyFlow } from '../../dsl/spec.js';
import { encodeDistributionModel } from '../../distributions/model.js';
import { summary } from '../../interpreters/summary.js';
import { writeCheckpointFile } from '../../node/checkpoint-file.js';
import { writeDensityPlot } from '../../node/density-plot.js';
import { readSpecFile, UsageError } from '../io.js';
import { checkOutput } from '../output-rule.js';
import { readPointsFile } from '../points.js';

export interface FitCommandOptions {
  readonly flow: string;
  readonly data: string;
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly seed: number;
  readonly output: string;
  readonly validation: number;
  readonly patience: number;
  readonly evalEvery: number;
  readonly quiet: boolean;
  /** Replace an earlier fit's folder, or write into a folder holding other files. */
  readonly force?: boolean;
}

export interface FitCommandResult {
  readonly result: Omit<FitResult, 'params'>;
  readonly files: readonly string[];
  readonly dims: number;
}

const fmt = (v: number | undefined, digits = 4): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));

export const fitCommand = async (o: FitCommandOptions): Promise<FitCommandResult> => {
  // Before reading anything, so a run is not lost to an output folder that cannot be written.
  checkOutput({ command: 'fit', option: '--output', path: o.output, kind: 'fit folder', ...(o.force === true ? { force: true } : {}) });
  const flow = (await readSpecFile(o.flow)) as AnyFlow;
  const sig = signature(flow);
  if (sig.ins.length !== 1) throw new UsageError(`'${o.flow}' takes ${sig.ins.length} input tensors; fit takes flows with one input (one event per row).`);
  if (Object.keys(sig.cond).length > 0) {
    throw new UsageError(`'${o.flow}' is conditional (on ${Object.keys(sig.cond).join(', ')}); fit from the command line takes unconditional flows (use fit() in code with options.ctx).`);
  }
  const event = sig.ins[0] as readonly number[];
  const dims = sizeOf(event);
  const points = await readPointsFile(o.data);
  if (points.width !== dims) {
    throw new UsageError(
      `'${o.flow}' takes events of shape ${formatShape(event)} (${dims} number${dims === 1 ? '' : 's'} per row) but '${o.data}' has ${points.width} number${points.width === 1 ? '' : 's'} per row. ` +
        `Declare the flow's input as [${points.width}] or pass data with ${dims} columns.`,
    );
  }
  if (points.rows < 2) throw new UsageError(`'${o.data}' has ${points.rows} row; fit needs at least 2.`);
  const dist = transformed(standardNormals(sig.outs), flow) as AnyDistribution;
  await mkdir(o.output, { recursive: true });
  const data = tf.tensor(points.values, tensorShape(event, points.rows));
  const started = Date.now();
  let r: FitResult;
  try {
    r = fit(dist, data, {
      steps: o.steps,
      batchSize: o.batch,
      lr: o.lr,
      seed: o.seed,
      validationFraction: o.validation,
      patience: o.patience,
      evalEvery: o.evalEvery,
      onProgress: o.quiet
        ? undefined
        : (p) => console.error(`step ${p.step}/${p.steps}  train NLL ${fmt(p.trainLoss)}  validation NLL ${fmt(p.validationNll)}${p.skipped > 0 ? `  (${p.skipped} skipped)` : ''}`),
    });
  } finally {
    data.dispose();
  }
  const seconds = (Date.now() - started) / 1000;
  const { params, ...result } = r;
  try {
    const files: string[] = [];
    const config = {
      command: 'fit',
      flow: o.flow,
      data: o.data,
      rows: points.rows,
      columns: points.columns ?? null,
      steps: o.steps,
      batch: o.batch,
      lr: o.lr,
      seed: o.seed,
      validation: o.validation,
      patience: o.patience,
      trainNll: result.trainNll,
      validationNll: result.validationNll ?? null,
      bestStep: result.bestStep,
    };
    const model = join(o.output, 'model.safetensors');
    await writeCheckpointFile(model, await encodeDistributionModel({ dist, params, step: result.bestStep, config }));
    files.push(model);
    const history = join(o.output, 'history.json');
    await writeFile(history, `${JSON.stringify(result.history)}\n`);
    files.push(history);

    let image: string | undefined;
    if (dims === 2) {
      image = join(o.output, 'density.png');
      const shown = Math.min(points.rows, 2000);
      const drawn = sample(dist, params)(shown, { seed: o.seed + 1 }).x;
      const samples = drawn.dataSync() as Float32Array;
      drawn.dispose();
      const lp = logProb(dist, params);
      await writeDensityPlot(image, {
        logProb: (grid) => tf.tidy(() => lp(tf.reshape(grid, tensorShape(event, grid.shape[0])) as never)),
        data: points.values.subarray(0, shown * 2),
        samples,
      });
      files.push(image);
    }

    const report = join(o.output, 'report.md');
    await writeFile(report, renderReport(o, { flow, event, rows: points.rows, result, seconds, image, cost: samplingCost(dist) }));
    files.push(report);
    return { result, files, dims };
  } finally {
    disposeParams(params);
  }
};

const renderReport = (
  o: FitCommandOptions,
  x: { flow: AnyFlow; event: readonly number[]; rows: number; result: Omit<FitResult, 'params'>; seconds: number; image: string | undefined; cost: string },
): string => {
  const d = sizeOf(x.event);
  const r = x.result;
  const perDim = (v: number | undefined): string => (v === undefined ? 'n/a' : fmt(v / d));
  const lines = [
    `# Density fit: ${o.flow} on ${o.data}`,
    '',
    `Maximum likelihood, base N(0, I) of the flow's output shape(s); ${x.rows} rows of event shape ${formatShape(x.event)}, ` +
      `${r.trainRows} for training and ${r.validationRows} for validation (seed ${o.seed}).`,
    '',
    '| | NLL (nats per row) | NLL (nats per dimension) |',
    '| --- | --- | --- |',
    `| train | ${fmt(r.trainNll)} | ${perDim(r.trainNll)} |`,
    `| validation | ${fmt(r.validationNll)} | ${perDim(r.validationNll)} |`,
    '',
    `- steps: ${r.steps} of ${o.steps}${r.stoppedEarly ? ` (stopped early: no validation improvement in ${o.patience} evaluations)` : ''}; parameters from step ${r.bestStep}`,
    `- batch ${o.batch}, Adam lr ${o.lr}, evaluation every ${o.evalEvery} steps${r.skipped > 0 ? `, ${r.skipped} non-finite steps skipped` : ''}`,
    `- time: ${x.seconds.toFixed(1)} s; sampling is ${x.cost}`,
    '',
  ];
  if (x.image !== undefined) {
    lines.push('![learnt density, data, samples](density.png)', '', 'Left: exp(log p) on a grid; middle: the data; right: samples from the fit.', '');
  }
  lines.push('## Flow', '', '```', summary(x.flow), '```', '');
  return lines.join('\n');
};
