/**
 * Batch normalisation as a bijector (Dinh et al. 2017, RealNVP §3.7), per channel (the tensor's last
 * axis, any rank): with statistics (mu, v) per channel,
 *   y = (x - mu) / sqrt(v + eps) * exp(logGamma) + beta,
 *   log|det J| = positions * sum_c [logGamma_c - 0.5 log(v_c + eps)]   (positions = H*W, 1 for vectors);
 *   inverse x = (y - beta) * exp(-logGamma) * sqrt(v + eps) + mu.
 * gamma = exp(logGamma) keeps the scale positive.
 *
 * Where the statistics live: `mean` and `variance` are frozen parameters (buffers: never trained,
 * saved in checkpoints) holding the running statistics, and the interpreters' forward and inverse
 * (and `verify`) use them: that is inference mode, an exact bijection. Training mode is the
 * `batchNormTraining` interpreter (src/interpreters/batch-norm.ts): the same forward pass except that
 * every batchNorm running forward normalises with its input batch's own statistics (biased variance,
 * differentiable, so gradients flow through them as in RealNVP) and returns the params with the
 * running statistics moved: running <- (1 - momentum) * running + momentum * batch (PyTorch's
 * convention, default 0.1). `init` with data sets the running statistics to the first batch's
 * (data-dependent initialisation); without data they are mean 0, variance 1.
 * No conditioning: the parameters are per-channel statistics, not functions of a context.
 * Domain all reals onto all reals.
 */
import * as tf from '@tensorflow/tfjs';
import type * as t from 'io-ts';
import { primitive } from '../primitive.js';
import { nodeCodec, num, shapeCodec } from '../codec-parts.js';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { param, type Ops, type ValueTree } from '../../algebra/ops.js';
import { defineBijector, ontoReals, shapePreserving } from '../definition.js';
import { sizeOf, spatialOf, type Shape } from '../shape.js';
import type { Bijector } from '../spec.js';

const codec = nodeCodec('batchNorm', { shape: shapeCodec(), momentum: num, eps: num });
/** The JSON spec of a `batchNorm` node: event shape, running-statistics momentum and variance epsilon. */
export type BatchNormSpec = t.TypeOf<typeof codec>;

/** Options of `batchNorm`. */
export interface BatchNormOptions {
  /** Weight of the batch in the running statistics' update (default 0.1). */
  readonly momentum?: number;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

/** Batch normalisation on events of `shape`, per channel (last tensor axis); forward and inverse use the running statistics (inference mode). */
export const batchNorm = <const S extends Shape>(shape: S, options: BatchNormOptions = {}): Bijector<S, S> =>
  primitive(batchNormDefinition, { kind: 'batchNorm', shape, momentum: options.momentum ?? 0.1, eps: options.eps ?? 1e-5 });

const positions = ({ shape }: BatchNormSpec): number => sizeOf(spatialOf(shape));

/** Per-channel statistics of a channels-last batch (over every axis but the last): biased variance. */
export const channelMoments = (x: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } => {
  const { mean, variance } = tf.moments(x, Array.from({ length: x.rank - 1 }, (_, i) => i));
  return { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
};

/** log-scale per channel: logGamma - 0.5 log(v + eps). */
const logScaleOf = <T>(o: Ops<T>, spec: BatchNormSpec, p: ValueTree<T>): T =>
  o.sub(param(o, p, 'logGamma'), o.mul(o.scalar(0.5), o.log(o.add(param(o, p, 'variance'), o.scalar(spec.eps)))));

/** The `batchNorm` kind: trained logGamma and beta, frozen running mean and variance (one per channel), and its maths. */
export const batchNormDefinition = defineBijector<BatchNormSpec>({
  kind: 'batchNorm',
  codec,
  ranks: 'any',
  signature: shapePreserving(undefined, (spec, path) => [
    ...(spec.momentum >= 0 && spec.momentum <= 1 ? [] : [{ path: `${path}.momentum`, message: `expected 0 <= momentum <= 1, got ${spec.momentum}` }]),
    ...(spec.eps > 0 ? [] : [{ path: `${path}.eps`, message: `expected a positive eps, got ${spec.eps}` }]),
  ]),
  domain: ontoReals,
  params: {
    shapes: ({ shape: [c] }) => ({ logGamma: [c as number], beta: [c as number], mean: [c as number], variance: [c as number] }),
    init: ({ shape: [c] }, { data }) => {
      const x = data?.[0];
      const stats = x === undefined ? { mean: tf.zeros([c as number]), variance: tf.ones([c as number]) } : channelMoments(x);
      return { logGamma: tf.zeros([c as number]), beta: tf.zeros([c as number]), ...stats };
    },
    frozen: ['mean', 'variance'],
    mixing: [],
  },
  ...algebraic<BatchNormSpec>({
    forward: unaryAlgebra((o, spec, p, x) => {
      const logScale = logScaleOf(o, spec, p);
      return {
        out: o.add(o.mul(o.sub(x, param(o, p, 'mean')), o.exp(logScale)), param(o, p, 'beta')),
        logDet: o.perSample(x, o.mul(o.sumAll(logScale), o.scalar(positions(spec)))),
      };
    }),
    inverse: unaryAlgebra((o, spec, p, y) => {
      const logScale = logScaleOf(o, spec, p);
      return {
        out: o.add(o.mul(o.sub(y, param(o, p, 'beta')), o.exp(o.neg(logScale))), param(o, p, 'mean')),
        logDet: o.perSample(y, o.mul(o.sumAll(logScale), o.scalar(-positions(spec)))),
      };
    }),
  }),
  inverseCost: 'analytic',
});
