/**
 * The tfjs engine of the op algebra: each op is one tf op (or the project's fused kernel, for the
 * convolution), so maths written on the algebra costs what hand-written tfjs costs and gets its
 * gradients from tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { inverseMatrix, logAbsDet, mixChannels } from '../dsl/maths/channel-mix.js';
import { conv2dSame, sumPerSample } from '../layers/ops.js';
import type { Ops } from './ops.js';

const lastAxis = (a: tf.Tensor): number => a.rank - 1;

/** The op algebra on tf.Tensor values. */
export const tfjsOps: Ops<tf.Tensor> = {
  engine: 'tfjs',
  isValue: (v): v is tf.Tensor => v instanceof tf.Tensor,

  scalar: (c) => tf.scalar(c),
  constant: (values, shape) => tf.tensor(Array.from(values), [...shape]),

  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  div: (a, b) => tf.div(a, b),
  neg: (a) => tf.neg(a),
  square: (a) => tf.square(a),
  sqrt: (a) => tf.sqrt(a),
  abs: (a) => tf.abs(a),
  maximum: (a, b) => tf.maximum(a, b),
  minimum: (a, b) => tf.minimum(a, b),

  exp: (a) => tf.exp(a),
  log: (a) => tf.log(a),
  log1p: (a) => tf.log1p(a),
  expm1: (a) => tf.expm1(a),
  softplus: (a) => tf.softplus(a),
  logSigmoid: (a) => tf.neg(tf.softplus(tf.neg(a))),
  sigmoid: (a) => tf.sigmoid(a),
  tanh: (a) => tf.tanh(a),
  atan: (a) => tf.atan(a),
  sinh: (a) => tf.sinh(a),
  cosh: (a) => tf.cosh(a),
  // tf.asinh is log(a + sqrt(a^2 + 1)), which cancels for a << 0: asinh is odd, so use |a| and the sign.
  asinh: (a) => tf.mul(tf.sign(a), tf.log(tf.add(tf.abs(a), tf.sqrt(tf.add(tf.square(a), 1))))),
  relu: (a) => tf.relu(a),
  elu: (a) => tf.elu(a),
  clip: (a, low, high) => tf.clipByValue(a, low, high),

  greaterEqual: (a, b) => tf.greaterEqual(a, b),
  less: (a, b) => tf.less(a, b),
  where: (cond, a, b) => {
    const shape = tf.broadcast_util.assertAndGetBroadcastShape(tf.broadcast_util.assertAndGetBroadcastShape(cond.shape, a.shape), b.shape);
    return tf.where(tf.broadcastTo(cond, shape), tf.broadcastTo(a, shape), tf.broadcastTo(b, shape));
  },

  sumEvent: (a) => sumPerSample(a),
  sumLast: (a) => tf.sum(a, lastAxis(a)),
  softmaxLast: (a) => tf.softmax(a, lastAxis(a)),
  cumsumLast: (a) => tf.cumsum(a, lastAxis(a)),
  sumAll: (a) => tf.sum(a),

  zerosLike: (like) => tf.zerosLike(like),
  perSample: (like, value) => tf.add(tf.zeros([like.shape[0] as number]), value),

  splitLast: (a, sizes) => {
    const used = sizes.filter((s) => s > 0);
    const pieces = used.length === 1 ? [a] : tf.split(a, used, lastAxis(a));
    let i = 0;
    return sizes.map((s) => (s > 0 ? (pieces[i++] as tf.Tensor) : tf.slice(a, Array(a.rank).fill(0), [...a.shape.slice(0, -1), 0])));
  },
  concatLast: (parts) => {
    const used = parts.filter((p) => p.shape[p.rank - 1] !== 0);
    return used.length === 1 ? (used[0] as tf.Tensor) : tf.concat([...used], (parts[0] as tf.Tensor).rank - 1);
  },
  sliceLast: (a, begin, size) => tf.slice(a, [...Array(a.rank - 1).fill(0), begin], [...Array(a.rank - 1).fill(-1), size]),
  reshape: (a, dims) => tf.reshape(a, [a.shape[0] as number, ...dims]),
  transpose: (a, perm) => tf.transpose(a, [...perm]),
  padLast: (a, before, after, value) => tf.pad(a, [...Array(a.rank - 1).fill([0, 0]), [before, after]] as Array<[number, number]>, value),
  gatherLast: (a, indices) => tf.gather(a, tf.tensor1d([...indices], 'int32'), lastAxis(a)),

  matmul: (a, b) => {
    if (a.rank === 2) return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
    const k = a.shape[a.rank - 1] as number;
    const out = tf.matMul(tf.reshape(a, [-1, k]) as tf.Tensor2D, b as tf.Tensor2D);
    return tf.reshape(out, [...a.shape.slice(0, -1), b.shape[1] as number]);
  },
  mixChannels: (x, w) => mixChannels(x, w as tf.Tensor2D),
  logAbsDet: (w) => logAbsDet(w as tf.Tensor2D),
  inverseMatrix: (w) => inverseMatrix(w as tf.Tensor2D),
  conv2d: (x, kernel, bias) => conv2dSame(x as tf.Tensor4D, kernel as tf.Tensor4D, bias as tf.Tensor1D),
  conv2dRelu: (x, kernel, bias) => conv2dSame(x as tf.Tensor4D, kernel as tf.Tensor4D, bias as tf.Tensor1D, 'relu'),

  iterate: (n, state, body) => {
    let s = state;
    for (let i = 0; i < n; i++) s = body(i, s);
    return s;
  },
};
