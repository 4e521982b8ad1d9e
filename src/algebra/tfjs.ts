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

/** Backends by name whose tf.log1p keeps a tiny argument's digits (cpu's is Math.log1p; wasm's is log(1 + a)). */
const stableLog1pOn = new Map<string, boolean>();

/** Whether the current backend's tf.log1p is the stable form: log1p(1e-6) to float32 precision. */
const backendLog1pIsStable = (): boolean => {
  const backend = tf.getBackend();
  let stable = stableLog1pOn.get(backend);
  if (stable === undefined) {
    const got = tf.tidy(() => tf.log1p(tf.scalar(1e-6)).dataSync()[0] as number);
    stable = Math.abs(got - Math.log1p(Math.fround(1e-6))) <= 1e-6 * 1e-6;
    stableLog1pOn.set(backend, stable);
  }
  return stable;
};

/**
 * log1p(a) where the backend's is log(1 + a) (losing eps/|a| of a small a's digits): with u = 1 + a
 * rounded, its rounding error e = (u - 1) - a is exact in float32, and log1p(a) = log(u - e) =
 * log(u) - e/u to float32 precision (a itself where u rounds to 1). No mask: the gradient, 1/u + e/u^2,
 * stays finite everywhere a > -1.
 */
const stableLog1p = (a: tf.Tensor): tf.Tensor => {
  const u = tf.add(a, 1);
  return tf.sub(tf.log(u), tf.div(tf.sub(tf.sub(u, 1), a), u));
};

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
  log1p: (a) => (backendLog1pIsStable() ? tf.log1p(a) : stableLog1p(a)),
  expm1: (a) => tf.expm1(a),
  softplus: (a) => tf.softplus(a),
  logSigmoid: (a) => tf.neg(tf.softplus(tf.neg(a))),
  sigmoid: (a) => tf.sigmoid(a),
  tanh: (a) => tf.tanh(a),
  atan: (a) => tf.atan(a),
  sin: (a) => tf.sin(a),
  cos: (a) => tf.cos(a),
  sinh: (a) => tf.sinh(a),
  cosh: (a) => tf.cosh(a),
  // tf.asinh is log(a + sqrt(a^2 + 1)), which cancels for a << 0 and loses a tiny a's digits. asinh is
  // odd, and log(|a| + sqrt(a^2 + 1)) = log1p(|a| + a^2 / (1 + sqrt(a^2 + 1))) keeps them; for |a| above
  // 1e18, a^2 overflows float32, where asinh(|a|) = log(2|a|) to float32 precision.
  asinh: (a) => {
    const m = tf.abs(a);
    const big = tf.greaterEqual(m, 1e18);
    const safe = tf.where(big, tf.zerosLike(m), m);
    const r = tf.sqrt(tf.add(tf.square(safe), 1));
    const small = tfjsOps.log1p(tf.add(safe, tf.div(tf.square(safe), tf.add(r, 1))));
    return tf.mul(tf.sign(a), tf.where(big, tf.add(tf.log(tf.where(big, m, tf.onesLike(m))), Math.LN2), small));
  },
  relu: (a) => tf.relu(a),
  elu: (a) => tf.elu(a),
  clip: (a, low, high) => tf.clipByValue(a, low, high),

  greaterEqual: (a, b) => tf.greaterEqual(a, b),
  // tfjs has a gradient for GreaterEqual and Step only, and a mask on the path from an input to a loss
  // needs one (a zero): a < b is step(b - a) > 0 (step(0) = 0, and NaN compares false either way).
  less: (a, b) => tf.greaterEqual(tf.step(tf.sub(b, a)), 0.5),
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

  iterate: (n, state, body, until) => {
    let s = state;
    for (let i = 0; i < n; i++) {
      // One host read a step, and only for loops that can end early (adaptive solvers).
      if (until !== undefined && tf.tidy(() => tf.all(until(s)).dataSync()[0]) === 1) break;
      // Each step's intermediates are freed as it ends (a solve keeps 4 field evaluations a step, each
      // with its Jacobian): tensors a gradient needs are kept by the tape, so this is safe under tf.grad.
      const state = s;
      s = tf.tidy(() => [...body(tf.scalar(i), state)]);
    }
    return s;
  },
};
