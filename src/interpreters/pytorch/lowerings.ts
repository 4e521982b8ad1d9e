/**
 * The per-kind table of the PyTorch exporter: for every bijector kind, the Python expression that
 * builds that node and the runtime parts (runtime.ts) it needs. Its type is `PerKind`, so a kind
 * registered without a lowering here is a compile error.
 */
import type { PerKind, Step } from '../../dsl/fold.js';
import { conditioningChannels, passThroughChannels } from '../../dsl/maths/conditioning.js';
import type { CondShapes, Shape } from '../../dsl/shape.js';
import { sizeOf, spatialOf, tensorShape } from '../../dsl/shape.js';
import { madeOrder } from '../../layers/mlp.js';
import type { NetSpec } from '../../layers/spec.js';
import type { TransformerSpec } from '../../dsl/bijectors/masked-autoregressive.js';
import type { PartName } from './runtime.js';
import { py, pyCall, pyNumber, pyString, pyTuple } from './python.js';

/** A node as Python: the expression that builds it and the runtime parts it uses. */
export interface Lowered {
  readonly expr: string;
  readonly parts: readonly PartName[];
}

export type LoweringTable = PerKind<never, Lowered>;

const step = (expr: string, parts: readonly PartName[]): Step<never, Lowered> => ({ outs: undefined, result: { expr, parts } });

/** The channels-last shape of one event (no batch axis): [H, W, C] for [C, H, W]. */
const eventTensorShape = (s: Shape): number[] => tensorShape(s, 1).slice(1);
const positions = (s: Shape): number => sizeOf(spatialOf(s));
const channels = (s: Shape): number => s[0] as number;
const condNames = (cond: CondShapes): string => py(Object.keys(cond));

/** The net of a coupling, injector or autoregressive layer, with its input and output widths. */
export const lowerNet = (net: NetSpec, cIn: number, cOut: number, autoregressive?: number): Lowered => {
  switch (net.kind) {
    case 'convNet':
      return { expr: pyCall('ConvNet', [pyNumber(cIn), pyNumber(net.hidden), pyNumber(cOut), pyTuple(net.kernels)]), parts: ['convNet'] };
    case 'mlp':
      return { expr: pyCall('MLP', [py([cIn, ...net.hidden, cOut]), pyString(net.activation), py(net.residual)]), parts: ['mlp'] };
    case 'made': {
      const d = autoregressive ?? cIn;
      return { expr: pyCall('MADE', [py([cIn, ...net.hidden, cOut]), pyString(net.activation), pyNumber(d), py(madeOrder(net, d))]), parts: ['made'] };
    }
  }
};

/** An elementwise transformer as a Python callable (z, raw, inverse) -> (out, log|det|), and its values per element. */
const lowerTransformer = (t: TransformerSpec): Lowered & { readonly perElement: number } => {
  switch (t.kind) {
    case 'affine':
      return { expr: `partial(affine_transform, clamp=${pyNumber(t.clamp)})`, parts: ['affineTransform'], perElement: 2 };
    case 'additive':
      return { expr: 'additive_transform', parts: ['additiveTransform'], perElement: 1 };
    case 'spline':
      return { expr: `partial(spline_transform, bins=${pyNumber(t.bins)}, bound=${pyNumber(t.bound)})`, parts: ['splineTransform'], perElement: 3 * t.bins - 1 };
  }
};

const coupling = (shape: Shape, cond: CondShapes, net: NetSpec, transformer: TransformerSpec): Step<never, Lowered> => {
  const c = channels(shape);
  const tr = lowerTransformer(transformer);
  const n = lowerNet(net, passThroughChannels(c) + conditioningChannels(cond), tr.perElement * (c - passThroughChannels(c)));
  return step(pyCall('Coupling', [pyNumber(c), condNames(cond), n.expr, tr.expr]), ['Coupling', ...n.parts, ...tr.parts]);
};

/** Every kind but cnf, which the Python engine of the op algebra will write. */
export const loweringTable: Omit<LoweringTable, 'cnf'> = {
  affine: (s) => step(pyCall('Affine', [pyTuple(eventTensorShape(s.shape))]), ['Affine']),
  actnorm: (s) => step(pyCall('ActNorm', [pyNumber(channels(s.shape)), pyNumber(positions(s.shape))]), ['ActNorm']),
  inv1x1: (s) => step(pyCall('Inv1x1', [pyNumber(channels(s.shape)), pyNumber(positions(s.shape))]), ['Inv1x1']),
  inv1x1LU: (s) => step(pyCall('Inv1x1LU', [pyNumber(channels(s.shape)), pyNumber(positions(s.shape))]), ['Inv1x1LU']),
  affineCoupling: (s) => coupling(s.shape, s.cond, s.net, { kind: 'affine', clamp: s.clamp }),
  additiveCoupling: (s) => coupling(s.shape, s.cond, s.net, { kind: 'additive' }),
  splineCoupling: (s) => coupling(s.shape, s.cond, s.net, { kind: 'spline', bins: s.bins, bound: s.bound }),
  conditionalAffine: (s) => {
    const n = lowerNet(s.net, conditioningChannels(s.cond), 2 * channels(s.shape));
    return step(pyCall('ConditionalAffine', [condNames(s.cond), n.expr, pyNumber(s.clamp)]), ['ConditionalAffine', ...n.parts]);
  },
  squeeze: () => step('Squeeze()', ['Squeeze']),
  unsqueeze: () => step('Unsqueeze()', ['Unsqueeze']),
  permute: (s) => step(pyCall('Permute', [py(s.perm)]), ['Permute']),
  logit: (s) => step(pyCall('Logit', [`alpha=${pyNumber(s.alpha)}`, `levels=${pyNumber(s.levels)}`]), ['Logit']),
  identity: () => step('Identity()', ['Identity']),
  split: (s) => step(pyCall('Split', [pyNumber(s.at)]), ['Split']),
  concat: (s) => step(pyCall('Concat', [pyNumber(channels(s.shapes[0]))]), ['Concat']),
  exp: () => step('Exp()', ['Exp']),
  maskedAutoregressive: (s) => {
    const d = channels(s.shape);
    const tr = lowerTransformer(s.transformer);
    const n = lowerNet(s.net, d + conditioningChannels(s.cond), tr.perElement * d, d);
    const elementMajor = s.transformer.kind === 'spline';
    return step(
      pyCall('MaskedAutoregressive', [pyNumber(d), condNames(s.cond), n.expr, tr.expr, pyNumber(tr.perElement), py(elementMajor)]),
      ['MaskedAutoregressive', ...n.parts, ...tr.parts],
    );
  },
  softplus: () => step('Softplus()', ['Softplus']),
  tanh: () => step('Tanh()', ['Tanh']),
  scaleShift: (s) =>
    step(
      pyCall('ScaleShift', [pyNumber(channels(s.shape)), pyNumber(s.scale), pyNumber(s.shift), py(s.learnable), pyNumber(sizeOf(s.shape)), pyNumber(positions(s.shape))]),
      ['ScaleShift'],
    ),
  batchNorm: (s) => step(pyCall('BatchNorm', [pyNumber(channels(s.shape)), pyNumber(s.eps), pyNumber(positions(s.shape))]), ['BatchNorm']),
  reshape: (s) => step(pyCall('Reshape', [pyTuple(eventTensorShape(s.shape)), pyTuple(eventTensorShape(s.to))]), ['Reshape']),
};
