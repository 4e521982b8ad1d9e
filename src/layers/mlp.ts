/**
 * The dense networks on vectors, as pure functions of their parameters: `mlp` and `made` (its masked
 * autoregressive variant). Tensors are [N, cIn] -> [N, cOut].
 *
 * Layers dense0 .. denseL (L = number of hidden layers), each { kernel: [in, out], bias: [out] }.
 * Hidden layers use PyTorch's default nn.Linear init (weight and bias U(-1/sqrt(fanIn), 1/sqrt(fanIn)));
 * the output layer is zero so the bijector holding the net starts as the identity.
 *
 * MADE (Germain et al. 2015): y = act(x (W0 * M0) + b0) ... (WL * ML) + bL, the masks M from degrees
 * (see MadeSpec in spec.ts): a hidden unit of degree m sees units below of degree <= m; an output of
 * element d sees units of degree < m_d. So output d is a function of the inputs of degree < m_d (the
 * ones before d in the order) and of the context, and the Jacobian of outputs with respect to inputs is
 * strictly triangular in the order. The masks are computed from the spec (not stored): the parameters
 * are full dense matrices whose masked entries are never used (their gradients are zero).
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamRecord, ShapeRecord } from '../dsl/params.js';
import { seededRandom, shuffledIndices } from '../dsl/random.js';
import type { Activation, MadeSpec, MlpSpec } from './spec.js';

const widths = (spec: MlpSpec | MadeSpec, cIn: number, cOut: number): number[] => [cIn, ...spec.hidden, cOut];

export const mlpParamShapes = (spec: MlpSpec | MadeSpec, cIn: number, cOut: number): ShapeRecord => {
  const w = widths(spec, cIn, cOut);
  return Object.fromEntries(w.slice(1).map((o, l) => [`dense${l}`, { kernel: [w[l] as number, o], bias: [o] }]));
};

export const initMlp = (spec: MlpSpec | MadeSpec, cIn: number, cOut: number, nextSeed: () => number): ParamRecord => {
  const w = widths(spec, cIn, cOut);
  const last = w.length - 2;
  return Object.fromEntries(
    w.slice(1).map((o, l) => {
      const i = w[l] as number;
      const bound = 1 / Math.sqrt(Math.max(1, i));
      const kernel = l === last ? tf.zeros([i, o]) : tf.randomUniform([i, o], -bound, bound, 'float32', nextSeed());
      const bias = l === last ? tf.zeros([o]) : tf.randomUniform([o], -bound, bound, 'float32', nextSeed());
      return [`dense${l}`, { kernel, bias }];
    }),
  );
};

const activate = (x: tf.Tensor, activation: Activation): tf.Tensor =>
  activation === 'relu' ? tf.relu(x) : activation === 'tanh' ? tf.tanh(x) : tf.elu(x);

const layer = (params: ParamRecord, l: number): { kernel: tf.Tensor2D; bias: tf.Tensor1D } => {
  const p = params[`dense${l}`] as ParamRecord | undefined;
  if (p === undefined) throw new TypeError(`dense net params: missing dense${l}`);
  return { kernel: p['kernel'] as tf.Tensor2D, bias: p['bias'] as tf.Tensor1D };
};

/** The MLP on [N, cIn]: dense layers, the activation after each hidden one, residual where asked and widths agree. */
export const applyMlp = (spec: MlpSpec, params: ParamRecord, x: tf.Tensor): tf.Tensor => {
  let h = x as tf.Tensor2D;
  const n = spec.hidden.length;
  for (let l = 0; l <= n; l++) {
    const { kernel, bias } = layer(params, l);
    const pre = tf.add(tf.matMul(h, kernel), bias) as tf.Tensor2D;
    if (l === n) return pre;
    const a = activate(pre, spec.activation) as tf.Tensor2D;
    h = spec.residual && l > 0 && kernel.shape[0] === kernel.shape[1] ? (tf.add(h, a) as tf.Tensor2D) : a;
  }
  return h;
};

/** The order of a MADE's D inputs: order[i] is the input at position i. */
export const madeOrder = (spec: MadeSpec, d: number): number[] => {
  if (Array.isArray(spec.order)) return [...(spec.order as readonly number[])];
  return spec.order === 'random' ? shuffledIndices(d, seededRandom(spec.seed)) : Array.from({ length: d }, (_, i) => i);
};

/** Degree of each of the D autoregressive inputs: its position in the order, 1..D. */
export const inputDegrees = (spec: MadeSpec, d: number): number[] => {
  const degrees = new Array<number>(d).fill(0);
  madeOrder(spec, d).forEach((input, position) => {
    degrees[input] = position + 1;
  });
  return degrees;
};

const maskCache = new Map<string, readonly Float32Array[]>();

/**
 * The masks of every layer ([in, out] row-major, 1 = connected) for d autoregressive inputs followed
 * by cIn - d context inputs, and cOut outputs in blocks of d. Cached by spec and sizes (JS arrays, not
 * tensors, so nothing outlives a pass).
 */
export const madeMasks = (spec: MadeSpec, d: number, cIn: number, cOut: number): readonly Float32Array[] => {
  const key = JSON.stringify([spec.hidden, spec.order, spec.seed, d, cIn, cOut]);
  const cached = maskCache.get(key);
  if (cached !== undefined) return cached;
  const inDeg = inputDegrees(spec, d);
  const degreesIn = Array.from({ length: cIn }, (_, i) => (i < d ? (inDeg[i] as number) : 0));
  // With context, degree-0 units (seeing the context alone) carry it to the first element in the order.
  const hiddenDegree = (k: number): number => (cIn > d ? k % d : (k % Math.max(1, d - 1)) + Math.min(1, d - 1));
  const layers: Array<{ degrees: number[]; strict: boolean }> = [
    ...spec.hidden.map((h) => ({ degrees: Array.from({ length: h }, (_, k) => hiddenDegree(k)), strict: false })),
    { degrees: Array.from({ length: cOut }, (_, o) => inDeg[o % d] as number), strict: true },
  ];
  const masks: Float32Array[] = [];
  let below = degreesIn;
  for (const { degrees, strict } of layers) {
    const mask = new Float32Array(below.length * degrees.length);
    below.forEach((db, i) => {
      degrees.forEach((da, o) => {
        mask[i * degrees.length + o] = (strict ? da > db : da >= db) ? 1 : 0;
      });
    });
    masks.push(mask);
    below = degrees;
  }
  if (maskCache.size > 256) maskCache.clear();
  maskCache.set(key, masks);
  return masks;
};

/** MADE on [N, cIn]: the first d inputs autoregressive, the rest context; outputs [N, cOut], cOut a multiple of d. */
export const applyMade = (spec: MadeSpec, params: ParamRecord, x: tf.Tensor, d: number): tf.Tensor => {
  const cIn = x.shape[x.rank - 1] as number;
  const n = spec.hidden.length;
  const cOut = layer(params, n).kernel.shape[1];
  const masks = madeMasks(spec, d, cIn, cOut);
  let h = x as tf.Tensor2D;
  for (let l = 0; l <= n; l++) {
    const { kernel, bias } = layer(params, l);
    const masked = tf.mul(kernel, tf.tensor2d(masks[l] as Float32Array, kernel.shape)) as tf.Tensor2D;
    const pre = tf.add(tf.matMul(h, masked), bias) as tf.Tensor2D;
    h = l === n ? pre : (activate(pre, spec.activation) as tf.Tensor2D);
  }
  return h;
};
