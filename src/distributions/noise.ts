/**
 * The tfjs engine's noise for a draw: the algebra has no random numbers, so the tensors a base's
 * `fromNoise` takes are drawn here from the laws its definition states (src/distributions/kinds),
 * each from the next seed of the stream: a normal by seededNormal, a categorical choice by
 * tf.multinomial (as one-hot rows), a gamma by tf.randomGamma per column. The laws' parameters are
 * read as numbers: no gradient flows through the noise (a draw is reparameterised in the rest).
 */
import * as tf from '@tensorflow/tfjs';
import type { ValueNode } from '../algebra/ops.js';
import { tfjsOps } from '../algebra/tfjs.js';
import { tensorShape } from '../dsl/shape.js';
import { seededNormal } from '../interpreters/seeded-normal.js';
import type { NoiseSpec } from './kinds/definition.js';
import type { BaseSpec } from './kinds/index.js';

/** Draws `n` rows of each noise tensor of `spec`'s base, in order. Not tidied. */
export const drawNoise = (spec: BaseSpec, noise: readonly NoiseSpec<BaseSpec>[], params: ValueNode<tf.Tensor>, n: number, nextSeed: () => number): tf.Tensor[] =>
  noise.map(({ shape, law }) => {
    switch (law.kind) {
      case 'normal':
        return seededNormal(tensorShape(shape, n), 1, nextSeed());
      case 'categorical': {
        const k = shape[0] as number;
        const seed = nextSeed();
        // tf.multinomial wants at least two outcomes.
        if (k === 1) return tf.ones([n, 1]);
        const logits = tf.reshape(law.logits(tfjsOps, spec, params), [1, k]) as tf.Tensor2D;
        return tf.oneHot(tf.reshape(tf.multinomial(logits, n, seed), [n]) as tf.Tensor1D, k).toFloat();
      }
      case 'gamma': {
        const concentration = law.concentration(tfjsOps, spec, params).dataSync();
        const rate = law.rate(tfjsOps, spec, params).dataSync();
        // tfjs 4.22's randomGamma multiplies by its `beta` (documented as a rate, used as a scale), so
        // it is drawn with beta = 1 and divided by the rate here.
        const columns = Array.from(concentration, (alpha, i) => tf.div(tf.randomGamma([n], alpha, 1, 'float32', nextSeed()), rate[i] as number));
        return tf.stack(columns, 1);
      }
    }
  });
