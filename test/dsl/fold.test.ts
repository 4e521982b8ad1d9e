/**
 * A new interpreter needs no combinator code: a toy interpreter that counts trainable parameters is
 * built from a per-kind table of closed forms alone (`byKind`: a hand-written kind missing from the
 * table is a compile error; a kind written on the algebra only may be left out, and is an error if
 * met without a fallback), folded over CAFLOW's specs, and checked against the parameter counts of the official
 * PyTorch CAFLOW code (445,904 for CAFLOW and 416,888 for Dual-Glow+ at conditional depth 5 on
 * mnist-sr, as measured on this project's settings) and against `parameterCount`.
 */
import { describe, expect, it } from 'vitest';
import { caflowSpec } from '../../src/caflow/model.js';
import { modelConfigOf } from '../../src/cli/model-config.js';
import { byKind, fold, type FoldTable, type PerKind } from '../../src/dsl/fold.js';
import type { NetSpec } from '../../src/dsl/index.js';
import type { CondShapes, Shape } from '../../src/dsl/shape.js';
import type { AnyFlow, FlowSpec } from '../../src/dsl/spec.js';
import { presets } from '../../src/experiments/config.js';
import { parameterCount } from '../../src/interpreters/index.js';

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const product = (s: Shape): number => s.reduce((a, b) => a * b, 1);
const condChannels = (cond: CondShapes): number => Object.values(cond).reduce((n, s) => n + (s[0] as number), 0);
/**
 * A conv net cIn -> hidden -> hidden -> cOut with biases: k0^2 cIn h + h + k1^2 h h + h + k2^2 h cOut + cOut.
 * A dense net (mlp, made: masked entries are stored too) cIn -> h0 -> ... -> cOut: sum of (in + 1) out per layer.
 */
const convNetCount = (net: NetSpec, cIn: number, cOut: number): number => {
  if (net.kind !== 'convNet') {
    const w = [cIn, ...net.hidden, cOut];
    return sum(w.slice(1).map((o, l) => ((w[l] as number) + 1) * o));
  }
  const { hidden: h, kernels: [k0, k1, k2] } = net;
  return k0 * k0 * cIn * h + h + k1 * k1 * h * h + h + k2 * k2 * h * cOut + cOut;
};
/** A coupling's net reads x1 (floor(C/2) channels) and the conditioning, and writes m values per channel of x2. */
const couplingCount = (shape: Shape, cond: CondShapes, net: NetSpec, m: number): number => {
  const c = shape[0] as number;
  return convNetCount(net, Math.floor(c / 2) + condChannels(cond), m * (c - Math.floor(c / 2)));
};

const none = () => ({ outs: undefined, result: 0 });
const counts: PerKind<never, number> = {
  affine: ({ shape }) => ({ outs: undefined, result: 2 * product(shape) }),
  actnorm: ({ shape }) => ({ outs: undefined, result: 2 * (shape[0] as number) }),
  inv1x1: ({ shape }) => ({ outs: undefined, result: (shape[0] as number) ** 2 }),
  // L and U are stored as full C x C matrices (masked); logS has C entries; P and sign are fixed.
  inv1x1LU: ({ shape }) => ({ outs: undefined, result: 2 * (shape[0] as number) ** 2 + (shape[0] as number) }),
  affineCoupling: ({ shape, cond, net }) => ({ outs: undefined, result: couplingCount(shape, cond, net, 2) }),
  additiveCoupling: ({ shape, cond, net }) => ({ outs: undefined, result: couplingCount(shape, cond, net, 1) }),
  splineCoupling: ({ shape, cond, net, bins }) => ({ outs: undefined, result: couplingCount(shape, cond, net, 3 * bins - 1) }),
  conditionalAffine: ({ shape, cond, net }) => ({ outs: undefined, result: convNetCount(net, condChannels(cond), 2 * (shape[0] as number)) }),
  squeeze: none,
  unsqueeze: none,
  permute: none,
  logit: none,
  identity: none,
  split: none,
  concat: none,
  exp: none,
  reshape: none,
  softplus: none,
  tanh: none,
  // Learnable: a log-scale and a shift per channel.
  scaleShift: ({ shape, learnable }) => ({ outs: undefined, result: learnable ? 2 * (shape[0] as number) : 0 }),
  // logGamma and beta per channel; the running mean and variance are frozen buffers.
  batchNorm: ({ shape }) => ({ outs: undefined, result: 2 * (shape[0] as number) }),
  // A made reads x ([D]) and the context, and writes m values per element.
  // Field layers: [D | 2F | context] -> H_1, then H_l -> H_{l+1}, ..., H_L -> D, each with a bias.
  cnf: ({ shape, cond, hidden, frequencies }) => {
    const widths = [(shape[0] as number) + 2 * frequencies + condChannels(cond), ...hidden, shape[0] as number];
    return { outs: undefined, result: widths.slice(1).reduce((n, o, l) => n + (widths[l] as number) * o + o, 0) };
  },
  maskedAutoregressive: ({ shape, cond, net, transformer: tr }) => {
    const m = tr.kind === 'affine' ? 2 : tr.kind === 'additive' ? 1 : 3 * tr.bins - 1;
    return { outs: undefined, result: convNetCount(net, (shape[0] as number) + condChannels(cond), m * (shape[0] as number)) };
  },
};

const countingInterpreter: FoldTable<never, number> = { primitive: byKind(counts), sequence: sum, parallel: sum, invert: (n) => n };
const count = (spec: FlowSpec): number => fold(spec, countingInterpreter).result;

const model = (variant: 'caflow' | 'dualglow', conditionalDepth?: number) => {
  const preset = presets['mnist-sr'];
  if (preset === undefined) throw new Error('no mnist-sr preset');
  return caflowSpec(modelConfigOf({ ...preset, model: { ...preset.model, variant, ...(conditionalDepth === undefined ? {} : { conditionalDepth }) } }));
};
const flowsOf = (m: ReturnType<typeof model>): AnyFlow[] => [m.encoderY, m.encoderW, ...m.priors];

describe('an interpreter from a per-kind table alone', () => {
  it("counts CAFLOW's parameters as the official PyTorch code does (445,904)", () => {
    expect(sum(flowsOf(model('caflow')).map(count))).toBe(445_904);
  });

  it("counts Dual-Glow+'s at conditional depth 5 (416,888)", () => {
    expect(sum(flowsOf(model('dualglow', 5)).map(count))).toBe(416_888);
  });

  it('agrees with parameterCount flow by flow (that one reads the definitions)', () => {
    for (const m of [model('caflow'), model('dualglow', 5), model('dualglow', 2)]) {
      for (const flow of flowsOf(m)) expect(count(flow)).toBe(parameterCount(flow));
    }
  });
});
