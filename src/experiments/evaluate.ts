/**
 * Evaluation as in the reference code (caflow-spec §6): the conditional NLL in bits/dim on held-out
 * pairs (u = 0.5 dequantisation), then for each condition M samples at temperature tau, of which the
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
  /** Networks for LPIPS / FID; a score whose network is missing is null. */
  readonly perceptual?: PerceptualModels;
}

export interface ImageScores {
  readonly rmse: number;
  readonly psnr: number;
  readonly ssim: number;
}

export interface Evaluation {
  readonly bitsPerDim: number;
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

/** Mean conditional NLL in bits/dim over all pairs. */
export const bitsPerDim = (m: CaflowSpec, params: CaflowParams, data: PairedData, batchSize = 32): number => {
  let total = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const { w, y } = pairsAt(data, range(start, Math.min(data.count, start + batchSize)));
    total += tf.tidy(() => {
      const wc = dequantize(w, 'center');
      const ll = logLikelihood(m, params)(wc, dequantize(y, 'center'));
      return tf.sum(conditionalBitsPerDim(ll.conditional, wc)).dataSync()[0] as number;
    });
    tf.dispose([w, y]);
  }
  return total / data.count;
};

const scores = (pred: tf.Tensor4D, truth: tf.Tensor4D): ImageScores => ({ rmse: rmse(pred, truth), psnr: psnr(pred, truth), ssim: ssim(pred, truth) });

/** Best-of-M samples: [conditions*M] drawn in one batch per chunk, ranked; returns the 8-bit samples too. */
export const sampleRanked = (m: CaflowSpec, params: CaflowParams, y8: tf.Tensor4D, o: Pick<EvaluateOptions, 'samples' | 'temperature' | 'seed'>): tf.Tensor4D =>
  tf.tidy(() => {
    const s = sample(m, params)(dequantize(y8, 'center'), { k: o.samples, temperature: o.temperature, seed: o.seed });
    return quantize(s.w);
  });

export const evaluate = (m: CaflowSpec, params: CaflowParams, data: PairedData, o: EvaluateOptions): Evaluation => {
  const n = Math.min(o.conditions, data.count);
  const { w, y } = pairsAt(data, range(0, n));
  const ranked = sampleRanked(m, params, y, o);
  const best = tf.tidy(() => tf.gather(ranked, range(0, n).map((i) => i * o.samples)) as tf.Tensor4D);
  const sameShape = w.shape.every((d, i) => d === y.shape[i]);
  const result: Evaluation = {
    bitsPerDim: bitsPerDim(m, params, data, o.batchSize),
    best: scores(best, w),
    diversity: diversity(ranked, o.samples),
    baseline: sameShape ? scores(y, w) : null,
    pairs: data.count,
    ...perceptualScores(best, w, o.perceptual ?? {}),
  };
  tf.dispose([w, y, ranked, best]);
  return result;
};
