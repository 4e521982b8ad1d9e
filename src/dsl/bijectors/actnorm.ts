/**
 * ActNorm (Glow): per channel (the tensor's last axis, any rank), y = (x + bias) * exp(logScale).
 * log|det J| = (number of positions) * sum_c logScale_c, positions = H * W for an image, 1 for a vector.
 * Data-dependent initialisation: bias = -mean, logScale = -log(std) over the first batch, so the
 * output has zero mean and unit variance per channel.
 */
import * as tf from '@tensorflow/tfjs';
import type * as t from 'io-ts';
import { primitive } from '../primitive.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { param } from '../../algebra/ops.js';
import { defineBijector, ontoReals, shapePreserving } from '../definition.js';
import { sizeOf, spatialOf, type Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('actnorm', { shape: shapeCodec() });
/** The JSON spec of an `actnorm` node: its event shape. */
export type ActNormSpec = t.TypeOf<typeof codec>;

/** ActNorm on events of `shape`: a per-channel (last tensor axis) learnt bias and log-scale, initialised from the first batch. */
export const actnorm = <const S extends Shape>(shape: S): Bijector<S, S> => primitive(actnormDefinition, { kind: 'actnorm', shape });

/** Keeps logScale finite for a channel that is constant in the init batch. */
const MIN_STD = 1e-6;

const positions = ({ shape }: ActNormSpec): number => sizeOf(spatialOf(shape));

/** The `actnorm` kind: its codec, parameters (bias, logScale: one per channel), data-dependent init and maths. */
export const actnormDefinition = defineBijector<ActNormSpec>({
  kind: 'actnorm',
  codec,
  ranks: 'any',
  signature: shapePreserving(),
  domain: ontoReals,
  params: {
    shapes: ({ shape: [c] }) => ({ bias: [c as number], logScale: [c as number] }),
    init: ({ shape: [c] }, { data }) => {
      const x = data?.[0];
      if (x === undefined) return { bias: tf.zeros([c as number]), logScale: tf.zeros([c as number]) };
      const { mean, variance } = tf.moments(x, Array.from({ length: x.rank - 1 }, (_, i) => i));
      return { bias: tf.neg(mean), logScale: tf.neg(tf.log(tf.add(tf.sqrt(variance), MIN_STD))) };
    },
    frozen: [],
    mixing: [],
  },
  ...algebraic<ActNormSpec>({
    forward: unaryAlgebra((o, spec, p, x) => {
      const logScale = param(o, p, 'logScale');
      return { out: o.mul(o.add(x, param(o, p, 'bias')), o.exp(logScale)), logDet: o.perSample(x, o.mul(o.sumAll(logScale), o.scalar(positions(spec)))) };
    }),
    inverse: unaryAlgebra((o, spec, p, y) => {
      const logScale = param(o, p, 'logScale');
      return { out: o.sub(o.mul(y, o.exp(o.neg(logScale))), param(o, p, 'bias')), logDet: o.perSample(y, o.mul(o.sumAll(logScale), o.scalar(-positions(spec)))) };
    }),
  }),
  inverseCost: 'analytic',
});
