/**
 * LPIPS and FID of the best-of-M samples against the ground truth, for the networks the user supplied
 * (none ship with typed-flows): each is null when its network was not given.
 */
import type * as tf from '@tensorflow/tfjs';
import { extractFeatures, type FeatureModel, type PixelRange } from '../metrics/features.js';
import { fid } from '../metrics/fid.js';
import { lpips, type LpipsWeights } from '../metrics/lpips.js';

export interface PerceptualModels {
  /** LPIPS (net='alex', v0.1) weights. */
  readonly lpips?: LpipsWeights;
  /** The FID feature network and the pixel range it takes. */
  readonly fid?: { readonly model: FeatureModel; readonly range: PixelRange };
}

export interface PerceptualScores {
  /** Mean LPIPS over the conditions between the best sample and the ground truth. */
  readonly lpips: number | null;
  /** FID between the best samples and the ground truths of the same conditions. */
  readonly fid: number | null;
}

export const perceptualScores = (best: tf.Tensor4D, truth: tf.Tensor4D, models: PerceptualModels): PerceptualScores => ({
  lpips: models.lpips === undefined ? null : lpips(models.lpips, best, truth),
  fid: models.fid === undefined ? null : fid(extractFeatures(models.fid.model, best, models.fid.range), extractFeatures(models.fid.model, truth, models.fid.range)),
});
