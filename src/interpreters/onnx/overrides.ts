/**
 * The ONNX engine's one table of overrides: kinds lowered by hand rather than by running their maths
 * on the op algebra (src/interpreters/onnx/primitive.ts). A kind is here only while its definition
 * has no `algebra`, or when it is listed in `keptForSpeed` with the reason; once a kind gains
 * `algebra`, deleting its entry is all the exporter needs (test/onnx-flows.test.ts fails on a stale
 * entry). Every kind here has its parity rows in test/onnx-flows.test.ts.
 *
 * Each entry reproduces its definition's tfjs maths (src/dsl/bijectors/<kind>.ts) on channels-last
 * values. Parameters become initializers; quantities that depend on parameters only (exp(logScale),
 * W^-1, log|det W|, constant log-dets) are computed at export, the matrix ones with the same float64
 * routines the tfjs passes use.
 */
import * as tf from '@tensorflow/tfjs';
import { inv1x1LUWeight } from '../../dsl/bijectors/inv1x1-lu.js';
import type { MaskedAutoregressiveSpec, TransformerSpec } from '../../dsl/bijectors/masked-autoregressive.js';
import type { Node } from '../../dsl/fold.js';
import type { PrimitiveKind } from '../../dsl/registry.js';
import { inverseMatrix, inverseMatrixOf, logAbsDet } from '../../dsl/maths/channel-mix.js';
import { passThroughChannels } from '../../dsl/maths/conditioning.js';
import { joinParamPath, type ParamRecord } from '../../dsl/params.js';
import { sizeOf, spatialOf, tensorShape, type CondShapes, type Shape } from '../../dsl/shape.js';
import type { Graph } from './graph.js';
import { unrollRefusal } from './graph-ops.js';
import { constantLogDet, noLogDet, tensorLogDet, type LogDet } from './logdet.js';
import { atOf, conditionValue, input, type ContextValues, type Lowered, type Overrides } from './lowering.js';
import { lowerNet } from './nets.js';
import {
  add,
  concatLast,
  div,
  exp,
  expm1,
  log,
  log1p,
  mul,
  neg,
  reshapeBatch,
  scale,
  shift,
  softplus,
  splitLast,
  sub,
  sumPerSample,
  transpose,
  zerosLike,
} from './ops.js';
import { additive, affine, spline, type TransformerLowering } from './transformers.js';
import { computed, groupAt, recordAt, sum, tensorAt, transposed, valuesOf, type At } from './weights.js';

/**
 * Kinds whose override is kept although their definition has `algebra`, each with the reason (a
 * fused or export-time form that the generic lowering would lose); none so far.
 */
export const keptForSpeed: { readonly [K in PrimitiveKind]?: string } = {};

const one = (out: string, logDet: LogDet): Lowered => ({ outs: [out], result: logDet });

const positions = (shape: Shape): number => sizeOf(spatialOf(shape));
const name = (at: At, what: string): string => joinParamPath(at.paramPath, what);

/** Conditioning values in the spec's order, checked to exist. */
const conditioning = (cond: CondShapes, ctx: ContextValues, path: string): string[] => Object.keys(cond).map((k) => conditionValue(ctx, k, path));

/** A per-channel vector parameter as an initializer, transformed elementwise at export. */
const channelVector = (g: Graph, p: ParamRecord, key: string, at: At, f: (v: number) => number = (v) => v): { name: string; values: Float32Array } => {
  const raw = valuesOf(tensorAt(p, key, at));
  const values = raw.map(f);
  return { name: g.floats(name(at, key), values, [values.length]), values: raw };
};

/** x W^T at every position (W [C, C] row-major): the channel mixing of inv1x1 as one MatMul. */
const mix = (g: Graph, x: string, w: Float32Array, c: number, at: At, what: string): string => g.op('MatMul', [x, g.floats(name(at, what), transposed(w, c, c), [c, c])]);

/** A coupling: split, net on [x1, cond], transformer on x2, concat. */
const coupling = (g: Graph, ctx: ContextValues, node: Node<string>, spec: { shape: Shape; cond: CondShapes; net: Parameters<typeof lowerNet>[1] }, transformer: TransformerLowering): Lowered => {
  const at = atOf(node);
  const c = spec.shape[0] as number;
  const c1 = passThroughChannels(c);
  const [x1, x2] = splitLast(g, input(node), [c1, c - c1]) as [string, string];
  const raw = lowerNet(g, spec.net, groupAt(recordAt(node.params, at), 'net', at), concatLast(g, [x1, ...conditioning(spec.cond, ctx, node.path)]), at);
  const { out, logDet } = transformer(g, x2, raw, node.dir === 'inverse');
  return one(concatLast(g, [x1, out]), logDet);
};

const transformerOf = (t: TransformerSpec): TransformerLowering =>
  t.kind === 'affine' ? affine(t.clamp) : t.kind === 'additive' ? additive : spline(t.bins, t.bound);

const valuesPerElement = (t: TransformerSpec): number => (t.kind === 'affine' ? 2 : t.kind === 'additive' ? 1 : 3 * t.bins - 1);

/** MAF: the MADE's outputs on [x, cond], rearranged element-major for the spline. */
const madeParameters = (g: Graph, ctx: ContextValues, node: Node<string>, spec: MaskedAutoregressiveSpec, x: string): string => {
  const at = atOf(node);
  const d = spec.shape[0] as number;
  const raw = lowerNet(g, spec.net, groupAt(recordAt(node.params, at), 'net', at), concatLast(g, [x, ...conditioning(spec.cond, ctx, node.path)]), at, d);
  if (spec.transformer.kind !== 'spline') return raw;
  const m = valuesPerElement(spec.transformer);
  return reshapeBatch(g, transpose(g, reshapeBatch(g, raw, [m, d]), [0, 2, 1]), [d * m]);
};

/**
 * The kinds lowered by hand (none of them has maths on the op algebra yet, or the generic lowering
 * would take them; see `keptForSpeed`).
 */
export const overrides: Overrides = {
  affine: (_spec, node, { g }) => {
    const at = atOf(node);
    const p = recordAt(node.params, at);
    const logScale = valuesOf(tensorAt(p, 'logScale', at));
    const dims = tensorAt(p, 'logScale', at).shape;
    const shiftT = g.floats(name(at, 'shift'), valuesOf(tensorAt(p, 'shift', at)), dims);
    const x = input(node);
    if (node.dir === 'forward') return one(add(g, mul(g, x, g.floats(name(at, 'scale'), logScale.map(Math.exp), dims)), shiftT), constantLogDet(sum(logScale)));
    return one(mul(g, sub(g, x, shiftT), g.floats(name(at, 'inverseScale'), logScale.map((v) => Math.exp(-v)), dims)), constantLogDet(-sum(logScale)));
  },
  actnorm: (spec, node, { g }) => {
    const at = atOf(node);
    const p = recordAt(node.params, at);
    const bias = channelVector(g, p, 'bias', at).name;
    const fwd = node.dir === 'forward';
    const s = channelVector(g, p, 'logScale', at, (v) => Math.exp(fwd ? v : -v));
    const logDet = positions(spec.shape) * sum(s.values);
    const x = input(node);
    return fwd ? one(mul(g, add(g, x, bias), s.name), constantLogDet(logDet)) : one(sub(g, mul(g, x, s.name), bias), constantLogDet(-logDet));
  },
  batchNorm: (spec, node, { g }) => {
    const at = atOf(node);
    const p = recordAt(node.params, at);
    const variance = valuesOf(tensorAt(p, 'variance', at));
    const logGamma = valuesOf(tensorAt(p, 'logGamma', at));
    const logScale = Float32Array.from(logGamma, (lg, i) => lg - 0.5 * Math.log((variance[i] as number) + spec.eps));
    const mean = channelVector(g, p, 'mean', at).name;
    const beta = channelVector(g, p, 'beta', at).name;
    const fwd = node.dir === 'forward';
    const s = g.floats(name(at, fwd ? 'scale' : 'inverseScale'), logScale.map((v) => Math.exp(fwd ? v : -v)), [logScale.length]);
    const logDet = positions(spec.shape) * sum(logScale);
    const x = input(node);
    return fwd ? one(add(g, mul(g, sub(g, x, mean), s), beta), constantLogDet(logDet)) : one(add(g, mul(g, sub(g, x, beta), s), mean), constantLogDet(-logDet));
  },
  scaleShift: (spec, node, { g }) => {
    const x = input(node);
    const fwd = node.dir === 'forward';
    if (!spec.learnable) {
      const logDet = sizeOf(spec.shape) * Math.log(Math.abs(spec.scale));
      return fwd ? one(shift(g, scale(g, x, spec.scale), spec.shift), constantLogDet(logDet)) : one(div(g, shift(g, x, -spec.shift), g.scalar(spec.scale)), constantLogDet(-logDet));
    }
    const at = atOf(node);
    const p = recordAt(node.params, at);
    const sign = Math.sign(spec.scale);
    const s = channelVector(g, p, 'logScale', at, (v) => sign * Math.exp(v));
    const shiftT = channelVector(g, p, 'shift', at).name;
    const logDet = positions(spec.shape) * sum(s.values);
    return fwd ? one(add(g, mul(g, x, s.name), shiftT), constantLogDet(logDet)) : one(div(g, sub(g, x, shiftT), s.name), constantLogDet(-logDet));
  },
  inv1x1: (spec, node, { g }) => {
    const at = atOf(node);
    const w = tensorAt(recordAt(node.params, at), 'weight', at) as tf.Tensor2D;
    const c = spec.shape[0] as number;
    const logDet = positions(spec.shape) * computed(() => logAbsDet(w))[0]!;
    return node.dir === 'forward'
      ? one(mix(g, input(node), valuesOf(w), c, at, 'weight'), constantLogDet(logDet))
      : one(mix(g, input(node), computed(() => inverseMatrix(w)), c, at, 'inverseWeight'), constantLogDet(-logDet));
  },
  inv1x1LU: (spec, node, { g }) => {
    const at = atOf(node);
    const p = recordAt(node.params, at);
    const c = spec.shape[0] as number;
    const logDet = positions(spec.shape) * sum(valuesOf(tensorAt(p, 'logS', at)));
    if (node.dir === 'forward') return one(mix(g, input(node), computed(() => inv1x1LUWeight(p, c)), c, at, 'weight'), constantLogDet(logDet));
    const keys = ['lower', 'upper', 'logS', 'permutation', 'sign'].map((k) => tensorAt(p, k, at));
    return one(mix(g, input(node), computed(() => inverseMatrixOf(keys, () => inv1x1LUWeight(p, c), c)), c, at, 'inverseWeight'), constantLogDet(-logDet));
  },
  affineCoupling: (spec, node, { g, ctx }) => coupling(g, ctx, node, spec, affine(spec.clamp)),
  additiveCoupling: (spec, node, { g, ctx }) => coupling(g, ctx, node, spec, additive),
  splineCoupling: (spec, node, { g, ctx }) => coupling(g, ctx, node, spec, spline(spec.bins, spec.bound)),
  conditionalAffine: (spec, node, { g, ctx }) => {
    const at = atOf(node);
    const raw = lowerNet(g, spec.net, groupAt(recordAt(node.params, at), 'net', at), concatLast(g, conditioning(spec.cond, ctx, node.path)), at);
    const { out, logDet } = affine(spec.clamp)(g, input(node), raw, node.dir === 'inverse');
    return one(out, logDet);
  },
  maskedAutoregressive: (spec, node, { g, ctx, options }) => {
    const z = input(node);
    const transformer = transformerOf(spec.transformer);
    if (node.dir === 'forward') {
      const { out, logDet } = transformer(g, z, madeParameters(g, ctx, node, spec, z), false);
      return one(out, logDet);
    }
    // Sampling direction: D passes, each fixing one more element in the order (unrolled).
    const d = spec.shape[0] as number;
    if (d > options.maxUnroll) throw unrollRefusal(node.path, `the sequential inverse of a masked autoregressive layer on [${d}]`, d, options.maxUnroll);
    let x = zerosLike(g, z);
    let step = { out: x, logDet: noLogDet };
    for (let k = 0; k < d; k++) {
      step = transformer(g, z, madeParameters(g, ctx, node, spec, x), true);
      x = step.out;
    }
    return one(step.out, step.logDet);
  },
  squeeze: (spec, node, { g }) => {
    const [c, h, w] = spec.shape as [number, number, number];
    return one(node.dir === 'forward' ? spaceToDepth(g, input(node), c, h, w) : depthToSpace(g, input(node), 4 * c, h / 2, w / 2), noLogDet);
  },
  unsqueeze: (spec, node, { g }) => {
    const [c, h, w] = spec.shape as [number, number, number];
    return one(node.dir === 'forward' ? depthToSpace(g, input(node), c, h, w) : spaceToDepth(g, input(node), c / 4, 2 * h, 2 * w), noLogDet);
  },
  permute: (spec, node, { g }) => {
    const perm = node.dir === 'forward' ? [...spec.perm] : inversePermutation(spec.perm);
    return one(g.op('Gather', [input(node), g.ints(perm)], { axis: -1 }), noLogDet);
  },
  reshape: (spec, node, { g }) => one(reshapeBatch(g, input(node), tensorShape(node.dir === 'forward' ? spec.to : spec.shape, 1).slice(1)), noLogDet),
  identity: (_spec, node) => one(input(node), noLogDet),
  split: (spec, node, { g }) => {
    if (node.dir === 'inverse') return one(concatLast(g, [input(node, 0), input(node, 1)]), noLogDet);
    const c = spec.shape[0] as number;
    return { outs: splitLast(g, input(node), [spec.at, c - spec.at]), result: noLogDet };
  },
  concat: (spec, node, { g }) => {
    if (node.dir === 'forward') return one(concatLast(g, [input(node, 0), input(node, 1)]), noLogDet);
    return { outs: splitLast(g, input(node), [spec.shapes[0][0] as number, spec.shapes[1][0] as number]), result: noLogDet };
  },
  softplus: (_spec, node, { g }) => {
    const x = input(node);
    if (node.dir === 'forward') return one(softplus(g, x), tensorLogDet(neg(g, sumPerSample(g, softplus(g, neg(g, x))))));
    const logOneMinus = log(g, neg(g, expm1(g, neg(g, x)))); // log(1 - e^-y)
    return one(add(g, x, logOneMinus), tensorLogDet(neg(g, sumPerSample(g, logOneMinus))));
  },
  tanh: (_spec, node, { g }) => {
    const x = input(node);
    if (node.dir === 'forward') {
      const terms = scale(g, sub(g, g.op('Sub', [g.scalar(Math.LN2), x]), softplus(g, scale(g, x, -2))), 2);
      return one(g.op('Tanh', [x]), tensorLogDet(sumPerSample(g, terms)));
    }
    const a = log1p(g, x);
    const b = log1p(g, neg(g, x));
    return one(scale(g, sub(g, a, b), 0.5), tensorLogDet(neg(g, sumPerSample(g, add(g, a, b)))));
  },
};

const inversePermutation = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
};

/** NHWC [N,H,W,C] -> [N,H/2,2,W/2,2,C] -> [N,H/2,W/2,C,2,2] -> [N,H/2,W/2,4C] (src/dsl/bijectors/squeeze.ts). */
export const spaceToDepth = (g: Graph, x: string, c: number, h: number, w: number): string =>
  reshapeBatch(g, transpose(g, reshapeBatch(g, x, [h / 2, 2, w / 2, 2, c]), [0, 1, 3, 5, 2, 4]), [h / 2, w / 2, 4 * c]);

/** The inverse: [N,H,W,4C] -> [N,H,W,C,2,2] -> [N,H,2,W,2,C] -> [N,2H,2W,C]. */
export const depthToSpace = (g: Graph, y: string, c4: number, h: number, w: number): string =>
  reshapeBatch(g, transpose(g, reshapeBatch(g, y, [h, w, c4 / 4, 2, 2]), [0, 1, 4, 2, 5, 3]), [2 * h, 2 * w, c4 / 4]);

