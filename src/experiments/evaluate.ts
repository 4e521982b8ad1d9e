/**
 * Evaluation as in the reference code (docs/caflow.md §6): the conditional NLL in bits/dim on held-out
 * pairs, with uniform dequantisation noise (the mean of -log p(W + u | Y) over draws of u ~ U(0,1),
 * an upper bound on the discrete NLL, with its standard error; the mid-bin u = 0.5 figure, which is no
 * bound, is reported beside it, labelled), then for each condition M samples at temperature tau, of which the
 * one with the highest conditional log-likelihood is scored (RMSE 0-255, PSNR, SSIM), and the
 * diversity of the M samples. The condition itself is scored too as the bicubic / identity baseline
 * where it has the target's shape. LPIPS and FID of the best samples are computed only when the caller
 * supplies their networks (perceptual.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { conditionalBitsPerDim, logLikelihood } from '../caflow/likelihood.js';
import type { CaflowSpec } from '../caflow/model.js';
import type { CaflowParams } from '../caflow/params.js';
import { dequantize, quantize } from '../caflow/quantize.js';
import { sample } from '../caflow/sample.js';
import { diversity, psnr, rmse, ssim } from '../metrics/index.js';
import { pairsAt, type PairedData } from './paired-data.js';
import { perceptualScores, type PerceptualModels } from './perceptual.js';

export interface EvaluateOptions {
  /** Conditions scored with samples (the NLL uses every pair). */
  readonly conditions: number;
  /** Samples per condition (M). */
  readonly samples: number;
  readonly temperature: number;
  readonly seed: number;
  readonly batchSize?: number;
  /**
   * Conditions sampled together (each with its M samples); default all of them in one batch. Batch b
   * draws its noise from seed + b, so one batch gives the same samples as before batching existed.
   */
  readonly conditionsPerBatch?: number;
  /** Draws of dequantisation noise for the held-out NLL (default 8). */
  readonly nllDraws?: number;
  /** Networks for LPIPS / FID; a score whose network is missing is null. */
  readonly perceptual?: PerceptualModels;
  /**
   * The ranked 8-bit samples of the first `conditions` conditions and the held-out NLL, computed by
   * another engine (ONNX Runtime: src/node/caflow-onnx.ts) on the same schedule; evaluate then scores
   * them instead of running tfjs. Not disposed here.
   */
  readonly computed?: { readonly ranked: tf.Tensor4D; readonly nll: HeldOutNll };
}

export interface ImageScores {
  readonly rmse: number;
  readonly psnr: number;
  readonly ssim: number;
}

/**
 * Held-out conditional NLL in bits per dimension of W. The condition Y is fixed at mid-bin (Y + 0.5),
 * the same condition sampling uses; W gets uniform dequantisation noise u ~ U(0,1)^D.
 */
export interface HeldOutNll {
  /**
   * Mean over pairs and noise draws of -log p(W + u | Y) / (D ln 2). Its expectation over u bounds the
   * discrete NLL -log P(W | Y) / (D ln 2) from above (Jensen), as in the flow literature.
   */
  readonly bitsPerDim: number;
  /** Standard error of `bitsPerDim` from the noise: std over draws of the per-draw means / sqrt(draws). */
  readonly standardError: number;
  /** Standard error over the held-out pairs (std of the per-pair noise-averaged values / sqrt(pairs)). */
  readonly pairStandardError: number;
  readonly draws: number;
  /** The same with u = 0.5 for every pixel (mid-bin): not a bound; for comparison with older figures. */
  readonly midBin: number;
}

export interface Evaluation {
  /** The held-out NLL (bits/dim) with uniform dequantisation noise: `nll.bitsPerDim`. */
  readonly bitsPerDim: number;
  readonly nll: HeldOutNll;
  readonly best: ImageScores;
  readonly diversity: number;
  /** The condition scored as a prediction (bicubic for super-resolution, the masked image for inpainting). */
  readonly baseline: ImageScores | null;
  readonly pairs: number;
  /** Mean LPIPS (alex, v0.1) of the best samples vs the ground truth; null when not computed. */
  readonly lpips: number | null;
  /** FID between the best samples and their ground truths; null when not computed. */
  readonly fid: number | null;
}

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** Mean and standard error of the mean (sample std with n - 1, / sqrt(n)); 0 for one value. */
export const meanAndStandardError = (values: ArrayLike<number>): { mean: number; standardError: number } => {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] as number;
  mean /= n;
  if (n < 2) return { mean, standardError: 0 };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((values[i] as number) - mean) ** 2;
  return { mean, standardError: Math.sqrt(ss / (n - 1) / n) };
};

/** Seed of the dequantisation noise of draw k on the batch starting at pair `start` (never 0). */
const noiseSeed = (seed: number, draw: number, start: number): number => 1 + seed * 1_000_003 + draw * 100_003 + start;

/** Per-pair bits/dim of -log p(W | Y) for continuous W and Y. */
const pairBits = (m: CaflowSpec, params: CaflowParams, w: tf.Tensor4D, y: tf.Tensor4D): Float32Array =>
  tf.tidy(() => conditionalBitsPerDim(logLikelihood(m, params)(w, y).conditional, w).dataSync() as Float32Array);

/** One batch to score: continuous W and Y, and where its per-pair bits/dim go. */
export interface NllJob {
  readonly w: tf.Tensor4D;
  readonly y: tf.Tensor4D;
  readonly record: (bits: Float32Array) => void;
}

export interface NllOptions {
  readonly draws?: number;
  readonly seed?: number;
  readonly batchSize?: number;
}

/**
 * The held-out NLL's batches (mid-bin, then each noise draw, per batch of pairs) as jobs, and its
 * statistics as the generator's return value: one schedule for every engine that scores the jobs
 * (tfjs here, ONNX Runtime in src/node/caflow-onnx.ts). Each job's tensors are disposed after it is recorded.
 */
export function* heldOutNllJobs(data: PairedData, o: NllOptions = {}): Generator<NllJob, HeldOutNll, void> {
  const draws = o.draws ?? 8;
  const seed = o.seed ?? 0;
  const batchSize = o.batchSize ?? 32;
  if (!Number.isInteger(draws) || draws < 1) throw new RangeError(`heldOutNll: draws must be a positive integer, got ${draws}`);
  const perDraw = new Float64Array(draws);
  const perPair = new Float64Array(data.count);
  let midTotal = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const { w, y } = pairsAt(data, range(start, Math.min(data.count, start + batchSize)));
    const yc = dequantize(y, 'center');
    const wc = dequantize(w, 'center');
    yield { w: wc, y: yc, record: (bits) => bits.forEach((b) => (midTotal += b)) };
    for (let k = 0; k < draws; k++) {
      const wu = dequantize(w, 'uniform', noiseSeed(seed, k, start));
      yield {
        w: wu,
        y: yc,
        record: (bits) =>
          bits.forEach((b, i) => {
            perDraw[k] = (perDraw[k] as number) + b;
            perPair[start + i] = (perPair[start + i] as number) + b / draws;
          }),
      };
      wu.dispose();
    }
    tf.dispose([w, y, yc, wc]);
  }
  const byDraw = meanAndStandardError(perDraw.map((t) => t / data.count));
  return {
    bitsPerDim: byDraw.mean,
    standardError: byDraw.standardError,
    pairStandardError: meanAndStandardError(perPair).standardError,
    draws,
    midBin: midTotal / data.count,
  };
}

/**
 * Held-out conditional NLL over all pairs: `draws` draws of uniform dequantisation noise on W (the
 * bound), with standard errors, and the mid-bin figure. Y is dequantised at mid-bin.
 */
export const heldOutNll = (m: CaflowSpec, params: CaflowParams, data: PairedData, o: NllOptions = {}): HeldOutNll => {
  const jobs = heldOutNllJobs(data, o);
  for (let next = jobs.next(); ; next = jobs.next()) {
    if (next.done === true) return next.value;
    next.value.record(pairBits(m, params, next.value.w, next.value.y));
  }
};

/** Mean conditional NLL in bits/dim over all pairs with uniform dequantisation noise (see heldOutNll). */
export const bitsPerDim = (m: CaflowSpec, params: CaflowParams, data: PairedData, batchSize = 32): number =>
  heldOutNll(m, params, data, { batchSize }).bitsPerDim;

const scores = (pred: tf.Tensor4D, truth: tf.Tensor4D): ImageScores => ({ rmse: rmse(pred, truth), psnr: psnr(pred, truth), ssim: ssim(pred, truth) });

/** Best-of-M samples: [conditions*M] drawn in one batch per chunk, ranked; returns the 8-bit samples too. */
export const sampleRanked = (m: CaflowSpec, params: CaflowParams, y8: tf.Tensor4D, o: Pick<EvaluateOptions, 'samples' | 'temperature' | 'seed'>): tf.Tensor4D =>
  tf.tidy(() => {
    const s = sample(m, params)(dequantize(y8, 'center'), { k: o.samples, temperature: o.temperature, seed: o.seed });
    return quantize(s.w);
  });

/**
 * The batches in which evaluation samples n conditions, `per` at a time (all at once by default): batch b
 * starts at condition `start`, holds `count` and draws its noise from seed + b. Shared by the tfjs and
 * ONNX Runtime engines, so both draw the same samples.
 */
export const conditionBatches = (n: number, per: number = n): readonly { readonly start: number; readonly count: number; readonly seedOffset: number }[] => {
  const size = Math.max(1, Math.min(n, per));
  return Array.from({ length: Math.ceil(n / size) }, (_, b) => ({ start: b * size, count: Math.min(size, n - b * size), seedOffset: b }));
};

/** The conditions [start, start + count) of an [N,H,W,C] batch. */
export const conditionsOf = (y: tf.Tensor4D, { start, count }: { readonly start: number; readonly count: number }): tf.Tensor4D =>
  count === y.shape[0] ? tf.clone(y) : tf.slice(y, [start, 0, 0, 0], [count, -1, -1, -1]);

/** sampleRanked over `conditionBatches`, concatenated in condition order. */
export const sampleRankedInBatches = (m: CaflowSpec, params: CaflowParams, y8: tf.Tensor4D, o: EvaluateOptions): tf.Tensor4D =>
  tf.tidy(() =>
    tf.concat(conditionBatches(y8.shape[0], o.conditionsPerBatch).map((batch) => sampleRanked(m, params, conditionsOf(y8, batch), { ...o, seed: o.seed + batch.seedOffset }))),
  ) as tf.Tensor4D;

export const evaluate = (m: CaflowSpec, params: CaflowParams, data: PairedData, o: EvaluateOptions): Evaluation => {
  const n = Math.min(o.conditions, data.count);
  const { w, y } = pairsAt(data, range(0, n));
  const ranked = o.computed?.ranked ?? sampleRankedInBatches(m, params, y, o);
  const best = tf.tidy(() => tf.gather(ranked, range(0, n).map((i) => i * o.samples)) as tf.Tensor4D);
  const sameShape = w.shape.every((d, i) => d === y.shape[i]);
  const nll = o.computed?.nll ?? heldOutNll(m, params, data, {
    seed: o.seed,
    ...(o.nllDraws === undefined ? {} : { draws: o.nllDraws }),
    ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
  });
  const result: Evaluation = {
    bitsPerDim: nll.bitsPerDim,
    nll,
    best: scores(best, w),
    diversity: diversity(ranked, o.samples),
    baseline: sameShape ? scores(y, w) : null,
    pairs: data.count,
    ...perceptualScores(best, w, o.perceptual ?? {}),
  };
  tf.dispose([w, y, best, ...(o.computed === undefined ? [ranked] : [])]);
  return result;
};
