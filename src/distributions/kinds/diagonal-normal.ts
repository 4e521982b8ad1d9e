/**
 * N(mean, diag(exp(logStd))^2) over each event tensor, `mean` and `logStd` learnt per element
 * (channels-last, like the tensors):
 *   log p(x) = log N(z; 0, I) - sum logStd,  z = (x - mean) exp(-logStd);   a draw: x = mean + exp(logStd) eps.
 * Initialised at 0 and 0, or at the mean and log std of the data that reaches it.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { param } from '../../algebra/ops.js';
import { standardNormalLogProb } from '../../algebra/normal.js';
import { sizeOfAll, tensorShape, type Shape } from '../../dsl/shape.js';
import { defineDistribution, listOf, recordOf } from './definition.js';
import { decodeShapes, eventShapes } from './fields.js';

/** N(mean, diag(exp(logStd))^2) over each event tensor; `mean` and `logStd` are learnt, per element. */
export interface DiagonalNormalSpec {
  readonly kind: 'diagonalNormal';
  readonly shapes: readonly Shape[];
}

/** The channels-last shape of one event's per-element parameters: [H,W,C] for [C,H,W], [D] for [D]. */
export const eventTensorShape = (s: Shape): number[] => tensorShape(s, 1).slice(1);

/** The `diagonalNormal` kind: one `{ mean, logStd }` per event tensor. */
export const diagonalNormalDefinition = defineDistribution<DiagonalNormalSpec>({
  kind: 'diagonalNormal',
  fields: ['shapes'],
  decode: (json, path) => E.map((shapes: Shape[]) => ({ kind: 'diagonalNormal' as const, shapes }))(decodeShapes(json['shapes'], `${path}.shapes`)),
  encode: (spec) => ({ shapes: spec.shapes.map((s) => [...s]) }),
  events: (spec, path) => eventShapes(spec.shapes, `${path}.shapes`),
  params: {
    shapes: (spec) => spec.shapes.map((s) => ({ mean: eventTensorShape(s), logStd: eventTensorShape(s) })),
    init: (spec, { data }) =>
      spec.shapes.map((s, i) => {
        const x = data?.[i];
        if (x === undefined || x.shape[0] === 0) return { mean: tf.zeros(eventTensorShape(s)), logStd: tf.zeros(eventTensorShape(s)) };
        const { mean, variance } = tf.moments(x, 0);
        return { mean, logStd: tf.mul(tf.log(tf.add(variance, 1e-12)), 0.5) };
      }),
  },
  logProb: (o, spec, params, xs) => {
    const ps = listOf(o, params, spec.shapes.length, 'a diagonalNormal');
    const each = xs.map((x, i) => {
      const p = recordOf(o, ps[i], 'a diagonalNormal event');
      const logStd = param(o, p, 'logStd');
      return { z: o.mul(o.sub(x, param(o, p, 'mean')), o.exp(o.neg(logStd))), sumLogStd: o.sumAll(logStd) };
    });
    const sumLogStd = each.slice(1).reduce((acc, e) => o.add(acc, e.sumLogStd), each[0]?.sumLogStd ?? o.scalar(0));
    return o.sub(standardNormalLogProb(o, each.map((e) => e.z), sizeOfAll(spec.shapes)), sumLogStd);
  },
  noise: (spec) => spec.shapes.map((shape) => ({ name: 'noise', shape, law: { kind: 'normal' } })),
  fromNoise: (o, spec, params, noise) => {
    const ps = listOf(o, params, spec.shapes.length, 'a diagonalNormal');
    return noise.map((eps, i) => {
      const p = recordOf(o, ps[i], 'a diagonalNormal event');
      return o.add(o.mul(eps, o.exp(param(o, p, 'logStd'))), param(o, p, 'mean'));
    });
  },
});
