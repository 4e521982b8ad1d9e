/**
 * The coupling and autoregressive networks (src/layers) as ONNX nodes, with their weights as
 * initializers. convNet: tensors are NHWC as in tfjs but ONNX's Conv is NCHW with OIHW kernels, so the
 * input is transposed once, the three convolutions run channels-first (kernels transposed from HWIO
 * at export), and the output is transposed back. mlp: MatMul + Add per layer. made: the same with
 * each kernel multiplied by its mask at export (exact: the mask is 0 or 1).
 */
import type * as tf from '@tensorflow/tfjs';
import { madeMasks } from '../../layers/mlp.js';
import type { Activation, ConvNetSpec, MadeSpec, MlpSpec, NetSpec } from '../../layers/spec.js';
import { joinParamPath, type ParamRecord } from '../../dsl/params.js';
import type { Graph } from './graph.js';
import { add, transpose } from './ops.js';
import { groupAt, tensorAt, valuesOf, type At } from './weights.js';

const weightName = (at: At, layer: string, what: string): string => joinParamPath(at.paramPath, `net.${layer}.${what}`);

const layerOf = (params: ParamRecord, layer: string, at: At): { kernel: tf.Tensor; bias: tf.Tensor } => {
  const p = groupAt(params, layer, at);
  return { kernel: tensorAt(p, 'kernel', at), bias: tensorAt(p, 'bias', at) };
};

/** HWIO -> OIHW. */
const oihw = (k: Float32Array, [h, w, i, o]: readonly number[]): Float32Array => {
  const out = new Float32Array(k.length);
  for (let a = 0; a < (h as number); a++)
    for (let b = 0; b < (w as number); b++)
      for (let c = 0; c < (i as number); c++)
        for (let d = 0; d < (o as number); d++) out[((d * (i as number) + c) * (h as number) + a) * (w as number) + b] = k[((a * (w as number) + b) * (i as number) + c) * (o as number) + d] as number;
  return out;
};

const convNet = (g: Graph, spec: ConvNetSpec, params: ParamRecord, x: string, at: At): string => {
  let h = transpose(g, x, [0, 3, 1, 2]);
  for (let l = 0; l < 3; l++) {
    const { kernel, bias } = layerOf(params, `conv${l}`, at);
    const [kh, kw, ci, co] = kernel.shape as [number, number, number, number];
    const k = g.floats(weightName(at, `conv${l}`, 'kernel'), oihw(valuesOf(kernel), kernel.shape), [co, ci, kh, kw]);
    const b = g.floats(weightName(at, `conv${l}`, 'bias'), valuesOf(bias), [co]);
    const pad = ((spec.kernels[l] as number) - 1) / 2;
    h = g.op('Conv', [h, k, b], { kernel_shape: [kh, kw], pads: [pad, pad, pad, pad], strides: [1, 1], dilations: [1, 1] });
    if (l < 2) h = g.op('Relu', [h]);
  }
  return transpose(g, h, [0, 2, 3, 1]);
};

const activate = (g: Graph, x: string, a: Activation): string =>
  a === 'relu' ? g.op('Relu', [x]) : a === 'tanh' ? g.op('Tanh', [x]) : g.op('Elu', [x], { alpha: { float: 1 } });

const dense = (g: Graph, spec: MlpSpec | MadeSpec, params: ParamRecord, x: string, at: At, masks?: readonly Float32Array[]): string => {
  let h = x;
  const n = spec.hidden.length;
  for (let l = 0; l <= n; l++) {
    const { kernel, bias } = layerOf(params, `dense${l}`, at);
    const [i, o] = kernel.shape as [number, number];
    const values = valuesOf(kernel);
    const mask = masks?.[l];
    if (mask !== undefined) for (let e = 0; e < values.length; e++) values[e] = (values[e] as number) * (mask[e] as number);
    const pre = add(g, g.op('MatMul', [h, g.floats(weightName(at, `dense${l}`, 'kernel'), values, [i, o])]), g.floats(weightName(at, `dense${l}`, 'bias'), valuesOf(bias), [o]));
    if (l === n) return pre;
    const a = activate(g, pre, spec.activation);
    h = spec.kind === 'mlp' && spec.residual && l > 0 && i === o ? add(g, h, a) : a;
  }
  return h;
};

/**
 * The net on a channels-last value with cIn channels, giving cOut channels; `autoregressive` is the
 * number of leading autoregressive inputs of a made (the rest are context).
 */
export const lowerNet = (g: Graph, net: NetSpec, params: ParamRecord, x: string, at: At, autoregressive?: number): string => {
  switch (net.kind) {
    case 'convNet':
      return convNet(g, net, params, x, at);
    case 'mlp':
      return dense(g, net, params, x, at);
    case 'made': {
      const first = layerOf(params, 'dense0', at).kernel;
      const last = layerOf(params, `dense${net.hidden.length}`, at).kernel;
      const masks = madeMasks(net, autoregressive ?? 0, first.shape[0] as number, last.shape[1] as number);
      return dense(g, net, params, x, at, masks);
    }
  }
};
