/**
 * An exponential moving average of the parameters (Polyak averaging): after each update,
 * avg <- d avg + (1 - d) params with d = min(decay, (1 + t) / (10 + t)) at update t, so the first
 * updates are not dominated by the starting point. Averaged weights are a cheap regulariser whose
 * validation loss is smoother than the last iterate's (Polyak & Juditsky 1992); `fit` validates and
 * returns them when asked.
 */
import * as tf from '@tensorflow/tfjs';
import { flattenParams, mapParams, type ParamTree } from '../dsl/params.js';

/** The decay used at update `t` (1-based): the requested one, ramped up over the first updates. */
export const averageDecay = (decay: number, t: number): number => Math.min(decay, (1 + t) / (10 + t));

/**
 * The next average of the parameters whose paths are in `trainable`; the others are copied from
 * `params` (frozen values such as a permutation must not be blended). Pure: returns new tensors.
 */
export const updateAverage = (average: ParamTree, params: ParamTree, trainable: ReadonlySet<string>, decay: number, t: number): ParamTree => {
  if (!(decay >= 0 && decay < 1)) throw new RangeError(`updateAverage: decay must be in [0, 1), got ${decay}`);
  const current = new Map(flattenParams(params));
  const d = averageDecay(decay, t);
  return mapParams(average, (a, path) =>
    tf.tidy(() => {
      const p = current.get(path);
      if (p === undefined) throw new TypeError(`updateAverage: the parameters have no '${path}'`);
      return trainable.has(path) ? tf.add(tf.mul(a, d), tf.mul(p, 1 - d)) : tf.clone(p);
    }),
  );
};
