/**
 * The baselines every density fit is compared with: a full-covariance Gaussian (the maximum-likelihood
 * one: EM with one component is the sample mean and covariance) and the best Gaussian mixture with
 * k = 1..kMax components (EM, deterministic in the seed), k chosen on validation rows. Both are
 * distributions like any other (`gaussianMixture`, standardised by default), so they are saved,
 * scored and sampled like a flow.
 */
import * as tf from '@tensorflow/tfjs';
import { disposeParams, type ParamTree } from '../dsl/params.js';
import { meanNll } from './fit.js';
import { initDistribution } from './interpret.js';
import { gaussianMixture, standardized, type AnyDistribution } from './spec.js';

/** A fitted Gaussian mixture baseline: its distribution, parameters and number of components k. */
export interface MixtureModel {
  readonly dist: AnyDistribution;
  readonly params: ParamTree;
  readonly k: number;
}

/** The baselines of a density fit: the maximum-likelihood Gaussian and the best Gaussian mixture. */
export interface MixtureBaselines {
  /** k = 1: the maximum-likelihood Gaussian. */
  readonly gaussian: MixtureModel;
  /** The k with the lowest validation NLL (k = 1 again when there are no validation rows). */
  readonly best: MixtureModel;
  /** Validation NLL (nats per row) of k = 1.. in order (empty without validation rows). */
  readonly validationNll: readonly number[];
}

/** Options of the mixture baselines. */
export interface MixtureBaselineOptions {
  /** Largest k tried. Default 10. */
  readonly kMax?: number;
  /** Wrap the mixture in `standardized` (location and scale from the training rows). Default true. */
  readonly standardize?: boolean;
  /** Seed of EM's k-means++ start. Default 0. */
  readonly seed?: number;
}

/** The mixture distribution with k components over vectors [d]. */
export const mixtureDistribution = (d: number, k: number, standardize: boolean): AnyDistribution => {
  const mixture = gaussianMixture([d], k) as AnyDistribution;
  return standardize ? (standardized(mixture) as AnyDistribution) : mixture;
};

/**
 * Fits k = 1..kMax mixtures on `train` rows [N,D] by EM and scores each on `validation` rows; returns
 * the Gaussian (k = 1) and the best (both owned by the caller; they may be the same params when
 * k = 1 wins, so dispose with `disposeBaselines`).
 */
export const fitMixtureBaselines = (train: tf.Tensor2D, validation: tf.Tensor2D, options: MixtureBaselineOptions = {}): MixtureBaselines => {
  const { kMax = 10, standardize = true, seed = 0 } = options;
  const d = train.shape[1];
  const fitK = (k: number): MixtureModel => {
    const dist = mixtureDistribution(d, k, standardize);
    return { dist, params: initDistribution(dist, { seed, data: train as never }), k };
  };
  const gaussian = fitK(1);
  if (validation.shape[0] === 0) return { gaussian, best: gaussian, validationNll: [] };
  const scores = [meanNll(gaussian.dist, gaussian.params, [validation])];
  let best = gaussian;
  for (let k = 2; k <= kMax; k += 1) {
    const m = fitK(k);
    const nll = meanNll(m.dist, m.params, [validation]);
    scores.push(nll);
    if (nll < (scores[best.k - 1] as number)) {
      if (best !== gaussian) disposeParams(best.params);
      best = m;
    } else disposeParams(m.params);
  }
  return { gaussian, best, validationNll: scores };
};

/** Disposes the baselines' parameters (once, when the best is the Gaussian). */
export const disposeBaselines = (b: MixtureBaselines): void => {
  disposeParams(b.gaussian.params);
  if (b.best !== b.gaussian) disposeParams(b.best.params);
};
