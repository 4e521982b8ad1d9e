/**
 * The PyTorch engine's overrides: kinds written as hand-written classes (py/overrides.py) rather than
 * generated from their definition's algebra. A kind whose definition has an `algebra` is generated
 * (generated-classes.ts) unless `keptForSpeed` names it with the reason; a kind with neither is
 * refused by the exporter with its spec path. Each override is checked against tfjs by
 * test/pytorch-flows.test.ts, and test/pytorch-lowering.test.ts fails if an override shadows an algebra
 * without a reason here.
 */
import { conditioningChannels, passThroughChannels } from '../../dsl/maths/conditioning.js';
import type { PrimitiveKind, PrimitiveSpec } from '../../dsl/registry.js';
import type { CondShapes, Shape } from '../../dsl/shape.js';
import { sizeOf, spatialOf, tensorShape } from '../../dsl/shape.js';
import { madeOrder } from '../../layers/mlp.js';
import type { NetSpec } from '../../layers/spec.js';
import type { TransformerSpec } from '../../dsl/bijectors/masked-autoregressive.js';
import { py, pyCall, pyNumber, pyString, pyTuple } from './python.js';

/** The Python expression building a node of kind K (a call of its class in py/overrides.py). */
export type Override<K extends PrimitiveKind> = (spec: Extract<PrimitiveSpec, { readonly kind: K }>) => string;

/** Overrides by kind: any subset of the kinds. */
export type OverrideTable = { readonly [K in PrimitiveKind]?: Override<K> };

/** Kinds whose override is used even though their definition has an algebra, each with the reason. */
export type KeptForSpeed = { readonly [K in PrimitiveKind]?: string };

/** The channels-last shape of one event (no batch axis): [H, W, C] for [C, H, W]. */
const eventTensorShape = (s: Shape): number[] => tensorShape(s, 1).slice(1);
const positions = (s: Shape): number => sizeOf(spatialOf(s));
const channels = (s: Shape): number => s[0] as number;
const condNames = (cond: CondShapes): string => py(Object.keys(cond));

/** The net of a coupling, injector or autoregressive layer, with its input and output widths. */
const netExpr = (net: NetSpec, cIn: number, cOut: number, autoregressive?: number): string => {
  switch (net.kind) {
    case 'convNet':
      return pyCall('ConvNet', [pyNumber(cIn), pyNumber(net.hidden), pyNumber(cOut), pyTuple(net.kernels)]);
    case 'mlp':
      return pyCall('MLP', [py([cIn, ...net.hidden, cOut]), pyString(net.activation), py(net.residual)]);
    case 'made': {
      const d = autoregressive ?? cIn;
      return pyCall('MADE', [py([cIn, ...net.hidden, cOut]), pyString(net.activation), pyNumber(d), py(madeOrder(net, d))]);
    }
  }
};

/** An elementwise transformer as a Python callable (z, raw, inverse) -> (out, log|det|), and its values per element. */
const transformerExpr = (t: TransformerSpec): { readonly expr: string; readonly perElement: number } => {
  switch (t.kind) {
    case 'affine':
      return { expr: `partial(affine_transform, clamp=${pyNumber(t.clamp)})`, perElement: 2 };
    case 'additive':
      return { expr: 'additive_transform', perElement: 1 };
    case 'spline':
      return { expr: `partial(spline_transform, bins=${pyNumber(t.bins)}, bound=${pyNumber(t.bound)})`, perElement: 3 * t.bins - 1 };
  }
};

const coupling = (shape: Shape, cond: CondShapes, net: NetSpec, transformer: TransformerSpec): string => {
  const c = channels(shape);
  const tr = transformerExpr(transformer);
  const n = netExpr(net, passThroughChannels(c) + conditioningChannels(cond), tr.perElement * (c - passThroughChannels(c)));
  return pyCall('Coupling', [pyNumber(c), condNames(cond), n, tr.expr]);
};

/** The hand-written classes of the kinds not (yet) written on the algebra. */
export const pytorchOverrides: OverrideTable = {
  affine: (s) => pyCall('Affine', [pyTuple(eventTensorShape(s.shape))]),
  actnorm: (s) => pyCall('ActNorm', [pyNumber(channels(s.shape)), pyNumber(positions(s.shape))]),
  inv1x1: (s) => pyCall('Inv1x1', [pyNumber(channels(s.shape)), pyNumber(positions(s.shape))]),
  inv1x1LU: (s) => pyCall('Inv1x1LU', [pyNumber(channels(s.shape)), pyNumber(positions(s.shape))]),
  affineCoupling: (s) => coupling(s.shape, s.cond, s.net, { kind: 'affine', clamp: s.clamp }),
  additiveCoupling: (s) => coupling(s.shape, s.cond, s.net, { kind: 'additive' }),
  splineCoupling: (s) => coupling(s.shape, s.cond, s.net, { kind: 'spline', bins: s.bins, bound: s.bound }),
  conditionalAffine: (s) => {
    const n = netExpr(s.net, conditioningChannels(s.cond), 2 * channels(s.shape));
    return pyCall('ConditionalAffine', [condNames(s.cond), n, pyNumber(s.clamp)]);
  },
  squeeze: () => 'Squeeze()',
  unsqueeze: () => 'Unsqueeze()',
  permute: (s) => pyCall('Permute', [py(s.perm)]),
  identity: () => 'Identity()',
  split: (s) => pyCall('Split', [pyNumber(s.at)]),
  concat: (s) => pyCall('Concat', [pyNumber(channels(s.shapes[0]))]),
  maskedAutoregressive: (s) => {
    const d = channels(s.shape);
    const tr = transformerExpr(s.transformer);
    const n = netExpr(s.net, d + conditioningChannels(s.cond), tr.perElement * d, d);
    const elementMajor = s.transformer.kind === 'spline';
    return pyCall('MaskedAutoregressive', [pyNumber(d), condNames(s.cond), n, tr.expr, pyNumber(tr.perElement), py(elementMajor)]);
  },
  softplus: () => 'Softplus()',
  tanh: () => 'Tanh()',
  scaleShift: (s) =>
    pyCall('ScaleShift', [pyNumber(channels(s.shape)), pyNumber(s.scale), pyNumber(s.shift), py(s.learnable), pyNumber(sizeOf(s.shape)), pyNumber(positions(s.shape))]),
  batchNorm: (s) => pyCall('BatchNorm', [pyNumber(channels(s.shape)), pyNumber(s.eps), pyNumber(positions(s.shape))]),
  reshape: (s) => pyCall('Reshape', [pyTuple(eventTensorShape(s.shape)), pyTuple(eventTensorShape(s.to))]),
};

/** None yet: every override shadowing an algebra must be listed here with why it is kept. */
export const keptForSpeed: KeptForSpeed = {};
