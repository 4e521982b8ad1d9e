/**
 * Section 1: what the DSL and its interpreters cost over the same computation written by hand in tfjs.
 *
 * Workload: a Glow level, squeeze [3,32,32] -> 8 x [ActNorm, Inv1x1, AffineCoupling(convNet hidden 64)],
 * batch 8, and its NLL (standard normal prior plus log-det, nats per dimension).
 * - "dsl": the spec run by the forward interpreter; the params tree is rebuilt from the flat list of
 *   tensors on every call, as `trainStep` does (tf.grads differentiates w.r.t. a list).
 * - "hand": a plain function over the same flat list, with the same ops: conv2dSame from
 *   src/layers/ops.ts (custom gradient), logAbsDet from src/dsl/maths/channel-mix.ts
 *   (custom gradient), the same squeeze, ActNorm, soft clamp and prior.
 * Both are timed interleaved (alternating which goes first) so drift affects them alike.
 */
import * as tf from '@tensorflow/tfjs';
import { standardNormalLogProb } from '../src/caflow/gaussian.js';
import { actnorm, affineCoupling, chain, convNet, inv1x1, repeat, squeeze, type Shape3 } from '../src/dsl/index.js';
import { flattenParams, forward, init, mapParams, type ParamTree } from '../src/interpreters/index.js';
import { logAbsDet } from '../src/dsl/maths/channel-mix.js';
import { conv2dSame } from '../src/layers/ops.js';
import { interleaved, round, type RunSize, type Timing } from './common.js';

const BATCH = 8;
const DEPTH = 8;
const HIDDEN = 64;
const CLAMP = 2;

const step = <const S extends Shape3>(s: S) =>
  chain(actnorm(s), inv1x1(s), affineCoupling(s, { net: convNet({ hidden: HIDDEN }), clamp: CLAMP }));
export const glowLevel = chain(squeeze([3, 32, 32]), repeat(step([12, 16, 16]), DEPTH));

/** The flat list's layout per step, in flattenParams order (checked at set-up). */
const PER_STEP = ['bias', 'logScale', 'weight', 'net.conv0.kernel', 'net.conv0.bias', 'net.conv1.kernel', 'net.conv1.bias', 'net.conv2.kernel', 'net.conv2.bias'];

const nll = (y: tf.Tensor4D, logDet: tf.Tensor): tf.Scalar => {
  const dims = y.shape[1] * y.shape[2] * y.shape[3];
  return tf.div(tf.neg(tf.mean(tf.add(standardNormalLogProb(y), logDet))), dims) as tf.Scalar;
};

/** The hand-written level: the same maths and ops as the kernels, no spec, no tree. */
const handLoss = (x: tf.Tensor4D, ps: readonly tf.Tensor[]): tf.Scalar => {
  const [n, h, w, c] = x.shape;
  let z = tf.reshape(tf.transpose(tf.reshape(x, [n, h / 2, 2, w / 2, 2, c]), [0, 1, 3, 5, 2, 4]), [n, h / 2, w / 2, 4 * c]) as tf.Tensor4D;
  const hw = (h / 2) * (w / 2);
  const ch = 4 * c;
  const half = Math.floor(ch / 2);
  let logDet: tf.Tensor = tf.scalar(0);
  for (let k = 0; k < DEPTH; k++) {
    const [bias, logScale, weight, k0, b0, k1, b1, k2, b2] = ps.slice(k * PER_STEP.length, (k + 1) * PER_STEP.length) as [
      tf.Tensor1D, tf.Tensor1D, tf.Tensor2D, tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D,
    ];
    // ActNorm
    z = tf.mul(tf.add(z, bias), tf.exp(logScale));
    logDet = tf.add(logDet, tf.mul(tf.sum(logScale), hw));
    // Inv1x1
    z = tf.reshape(tf.matMul(tf.reshape(z, [n * hw, ch]), weight, false, true), [n, h / 2, w / 2, ch]);
    logDet = tf.add(logDet, tf.mul(logAbsDet(weight), hw));
    // AffineCoupling
    const [x1, x2] = tf.split(z, [half, ch - half], 3) as [tf.Tensor4D, tf.Tensor4D];
    const a0 = conv2dSame(x1, k0, b0, 'relu');
    const a1 = conv2dSame(a0, k1, b1, 'relu');
    const out = conv2dSame(a1, k2, b2);
    const [sRaw, t] = tf.split(out, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
    const s = tf.mul(tf.atan(sRaw), (2 * CLAMP) / Math.PI);
    z = tf.concat([x1, tf.add<tf.Tensor4D>(tf.mul(x2, tf.exp(s)), t)], 3);
    logDet = tf.add(logDet, tf.sum(s, [1, 2, 3]));
  }
  return nll(z, logDet);
};

export interface OverheadFigure {
  readonly workload: string;
  readonly dsl: Timing;
  readonly hand: Timing;
  /** dsl / hand (median of the per-pair ratios would hide drift; this is median / median). */
  readonly ratio: number;
  /** Median of the ratios of interleaved pairs (robust to drift between the two). */
  readonly pairedRatio: number;
}

export interface OverheadResult {
  readonly forward: OverheadFigure;
  readonly forwardBackward: OverheadFigure;
  /** The two implementations agree (loss and gradients), so they really are the same computation. */
  readonly check: { readonly lossDiff: number; readonly maxGradRelDiff: number; readonly paramTensors: number; readonly params: number };
}

export const runDslOverhead = (size: RunSize): OverheadResult => {
  const x = tf.tidy(() => tf.add(tf.randomUniform([BATCH, 32, 32, 3], -0.5, 0.5, 'float32', 3), tf.reshape(tf.linspace(-1, 1, 32), [1, 1, 32, 1]))) as tf.Tensor4D;
  // Data-initialised params, with the zero-initialised last convolutions perturbed so s and t are not 0.
  const params0 = init(glowLevel, { seed: 0, data: x });
  const params = tf.tidy(() =>
    mapParams(params0, (t, path) => (path.endsWith('conv2.kernel') || path.endsWith('conv2.bias') ? tf.add(t, tf.randomNormal(t.shape, 0, 0.01, 'float32', 5)) : tf.clone(t))) as unknown as tf.TensorContainer,
  ) as unknown as ParamTree;
  flattenParams(params0).forEach(([, t]) => t.dispose());
  const leaves = flattenParams(params);
  // Check the layout the hand-written version assumes: [squeeze: none] then per step PER_STEP.
  leaves.forEach(([path], i) => {
    const want = `1.${Math.floor(i / PER_STEP.length)}.`;
    const tailName = PER_STEP[i % PER_STEP.length] as string;
    const parts = path.split('.');
    const ok = path.startsWith(want) && parts.slice(3).join('.') === tailName;
    if (!ok) throw new Error(`dsl-overhead: unexpected param layout at ${i}: ${path}`);
  });
  const xs = leaves.map(([, t]) => t);
  const index = new Map(leaves.map(([path], i) => [path, i]));
  const dslLoss = (ps: readonly tf.Tensor[]): tf.Scalar => {
    const tree = mapParams(params, (t, path) => ps[index.get(path) as number] ?? t);
    const { y, logDet } = forward(glowLevel, tree)(x);
    return nll(y, logDet);
  };
  const hand = (ps: readonly tf.Tensor[]): tf.Scalar => handLoss(x, ps);

  const fwd = (f: (ps: readonly tf.Tensor[]) => tf.Scalar) => (): tf.Tensor[] => [tf.tidy(() => f(xs))];
  const fwdBwd = (f: (ps: readonly tf.Tensor[]) => tf.Scalar) => (): tf.Tensor[] =>
    tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => f(ps))(xs);
      return [value, ...grads];
    });

  // Same computation? Loss and every gradient.
  const [dv, ...dg] = fwdBwd(dslLoss)();
  const [hv, ...hg] = fwdBwd(hand)();
  const lossDiff = Math.abs((dv as tf.Tensor).dataSync()[0]! - (hv as tf.Tensor).dataSync()[0]!);
  const maxGradRelDiff = Math.max(
    ...dg.map((g, i) =>
      tf.tidy(() => {
        const other = hg[i] as tf.Tensor;
        return tf.div(tf.max(tf.abs(tf.sub(g, other))), tf.add(tf.max(tf.abs(other)), 1e-12)).dataSync()[0]!;
      }),
    ),
  );
  tf.dispose([dv as tf.Tensor, hv as tf.Tensor, ...dg, ...hg]);

  const { warmup, reps } = size.cheap;
  const f = interleaved(fwd(dslLoss), fwd(hand), warmup, reps);
  const fb = interleaved(fwdBwd(dslLoss), fwdBwd(hand), warmup, reps);
  const workload = `squeeze [3,32,32] -> ${DEPTH} x [ActNorm, Inv1x1, AffineCoupling(convNet hidden ${HIDDEN})], batch ${BATCH}, NLL`;
  const figure = (t: typeof f, what: string): OverheadFigure => ({
    workload: `${workload}: ${what}`,
    dsl: t.a,
    hand: t.b,
    ratio: round(t.a.median_ms / t.b.median_ms, 4),
    pairedRatio: round(t.paired, 4),
  });
  const result: OverheadResult = {
    forward: figure(f, 'forward'),
    forwardBackward: figure(fb, 'forward + backward (gradients w.r.t. all params)'),
    check: { lossDiff, maxGradRelDiff, paramTensors: xs.length, params: xs.reduce((n, t) => n + t.size, 0) },
  };
  tf.dispose([x, ...xs]);
  return result;
};
