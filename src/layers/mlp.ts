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
import { branch, param, type Ops, type ValueTree } from '../algebra/ops.js';
import type { ParamRecord, ShapeRecord } from '../dsl/params.js';
import { seededRandom, shuffledIndices } from '../dsl/random.js';
import type { Activation, MadeSpec, MlpSpec } from './spec.js';

const widths = (spec: MlpSpec | MadeSpec, cIn: number, cOut: number): number[] => [cIn, ...spec.hidden, cOut];

/** The parameter shapes of an mlp or made from cIn to cOut features: `dense0..`, each { kernel [in, out], bias [out] }. */
export const mlpParamShapes = (spec: MlpSpec | MadeSpec, cIn: number, cOut: number): ShapeRecord => {
  const w = widths(spec, cIn, cOut);
  return Object.fromEntries(w.slice(1).map((o, l) => [`dense${l}`, { kernel: [w[l] as number, o], bias: [o] }]));
};

/** Fresh mlp or made parameters: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for the hidden layers (seeds from `nextSeed`), the last layer zero. */
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

const activate = <T>(o: Ops<T>, x: T, activation: Activation): T => (activation === 'relu' ? o.relu(x) : activation === 'tanh' ? o.tanh(x) : o.elu(x));

const layer = <T>(o: Ops<T>, params: ValueTree<T>, l: number): { kernel: T; bias: T } => {
  const p = branch(o, params, `dense${l}`);
  return { kernel: param(o, p, 'kernel'), bias: param(o, p, 'bias') };
};

/** The MLP on the algebra, [N, cIn] -> [N, cOut]: dense layers, the activation after each hidden one, residual where asked and widths agree. */
export const mlpOn = <T>(o: Ops<T>, spec: MlpSpec, params: ValueTree<T>, x: T, cIn: number, cOut: number): T => {
  const w = widths(spec, cIn, cOut);
  let h = x;
  const n = spec.hidden.length;
  for (let l = 0; l <= n; l++) {
    const { kernel, bias } = layer(o, params, l);
    const pre = o.add(o.matmul(h, kernel), bias);
    if (l === n) return pre;
    const a = activate(o, pre, spec.activation);
    h = spec.residual && l > 0 && w[l] === w[l + 1] ? o.add(h, a) : a;
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

/** MADE on the algebra, [N, cIn] -> [N, cOut]: the first d inputs autoregressive, the rest context; cOut a multiple of d. */
export const madeOn = <T>(o: Ops<T>, spec: MadeSpec, params: ValueTree<T>, x: T, d: number, cIn: number, cOut: number): T => {
  const w = widths(spec, cIn, cOut);
  const n = spec.hidden.length;
  const masks = madeMasks(spec, d, cIn, cOut);
  let h = x;
  for (let l = 0; l <= n; l++) {
    const { kernel, bias } = layer(o, params, l);
    const masked = o.mul(kernel, o.constant(masks[l] as Float32Array, [w[l] as number, w[l + 1] as number]));
    const pre = o.add(o.matmul(h, masked), bias);
    h = l === n ? pre : activate(o, pre, spec.activation);
  }
  return h;
};
