/**
 * The coupling-net workload shared by the benchmarks (the design notes' PyTorch comparison): one affine
 * coupling whose net is conv3x3 C/2->hidden, ReLU, conv1x1, ReLU, conv3x3 hidden->C, on a fixed batch,
 * and its negative log-likelihood per dimension as a function of the flat parameter list (what
 * `tf.valueAndGrads` differentiates).
 */
import * as tf from '@tensorflow/tfjs';
import { standardNormalLogProb } from '../src/caflow/gaussian.js';
import { affineCoupling, convNet } from '../src/dsl/index.js';
import { flattenParams, forward, init, mapParams, type ParamTree } from '../src/interpreters/index.js';

export interface CouplingConfig {
  readonly batch: number;
  readonly size: number;
  readonly channels: number;
  readonly hidden: number;
  readonly clamp: number;
}

export interface CouplingWorkload {
  /** The trainable tensors, in a fixed order. */
  readonly xs: tf.Tensor[];
  /** NLL per dimension at the given parameter list (same order as `xs`). */
  readonly nll: (ps: readonly tf.Tensor[]) => tf.Scalar;
  /** Releases the input batch and the parameters. */
  readonly dispose: () => void;
}

export const couplingWorkload = (c: CouplingConfig): CouplingWorkload => {
  const flow = affineCoupling([c.channels, c.size, c.size], { net: convNet({ hidden: c.hidden }), clamp: c.clamp });
  const x = tf.randomUniform([c.batch, c.size, c.size, c.channels], -0.5, 0.5, 'float32', 11) as tf.Tensor4D;
  const p0 = init(flow, { seed: 0 });
  // The last layer starts at zero; perturb it so the scale and shift are not trivially 0.
  const params = tf.tidy(() =>
    mapParams(p0, (t, path) => (path.includes('conv2') ? tf.add(t, tf.randomNormal(t.shape, 0, 0.01, 'float32', 3)) : tf.clone(t))) as unknown as tf.TensorContainer,
  ) as unknown as ParamTree;
  flattenParams(p0).forEach(([, t]) => t.dispose());
  const leaves = flattenParams(params);
  const index = new Map(leaves.map(([path], i) => [path, i]));
  const dims = c.size * c.size * c.channels;
  const xs = leaves.map(([, t]) => t);
  return {
    xs,
    dispose: () => tf.dispose([x, ...xs]),
    nll: (ps) => {
      const tree = mapParams(params, (t, path) => ps[index.get(path) as number] ?? t);
      const { y, logDet } = forward(flow, tree)(x);
      return tf.div(tf.neg(tf.mean(tf.add(standardNormalLogProb(y), logDet))), dims) as tf.Scalar;
    },
  };
};
