/**
 * Gaussian noise that is reproducible for every integer seed. tfjs's Gaussian generator treats a
 * falsy seed as "no seed" (`seed ? seed : Math.random()`), so seed 0 silently gave different noise in
 * every process; 0 is sent as 0.5, a seed no integer can equal (the generator seeds from its string).
 */
import * as tf from '@tensorflow/tfjs';

export const tfjsNormalSeed = (seed: number): number => (seed === 0 ? 0.5 : seed);

export const seededNormal = <R extends tf.Rank>(shape: tf.ShapeMap[R], std: number, seed: number): tf.Tensor<R> =>
  tf.randomNormal<R>(shape, 0, std, 'float32', tfjsNormalSeed(seed));
