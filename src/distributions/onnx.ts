/**
 * A distribution and its parameters as an ONNX model (opset 17): the passes of the one fold over
 * distributions (./fold.ts) run on the ONNX engine of the op algebra, the flows by their lowering
 * (src/interpreters/onnx), so every base kind with a definition exports with no code here:
 *
 * - 'logProb': x[, context] -> logp = log p(x) per row (`logProb`). Inputs are named x (x0, x1, ...
 *   for several event tensors).
 * - 'sample':  noise inputs[, context] -> x, logp (`sampleAndLogProb` given the same noise). The noise
 *   inputs are the innermost base's (its definition's `noise`), named after their role:
 *   `noise` (noise0, noise1, ... for several tensors): standard normal draws shaped as the base's events;
 *   `component` [N, K] (a Gaussian mixture): one-hot rows of the component each draw takes, categorical
 *   with probabilities softmax(logits);
 *   `precision` [N, D] (a Student-t): Gamma(nu/2, rate nu/2) draws per column (chi^2_nu / nu).
 *   ONNX has no categorical or gamma sampler, so the caller draws these; the laws' parameters at
 *   export (the mixture's probabilities, the Student-t's nu / 2) are in the model's metadata under
 *   `noise` (JSON: one entry per input with its law).
 *
 * Tensors are channels-last with a symbolic batch 'N', like toOnnx's; log p is in nats.
 */
import * as tf from '@tensorflow/tfjs';
import { type ParamTree } from '../dsl/params.js';
import type { Shape } from '../dsl/shape.js';
import { contextInputs } from '../interpreters/onnx/flow.js';
import { paramNode } from '../interpreters/onnx/param-values.js';
import { BATCH, DEFAULT_MAX_UNROLL, encodeModel, Graph, graphOps, lowerFlow, namesOf, OnnxExportError, tensorDims, total } from '../interpreters/onnx/index.js';
import type { ValueNode } from '../algebra/ops.js';
import { tfjsOps } from '../algebra/tfjs.js';
import { checkDistributionParams, tfjsDistributionEngine } from './interpret.js';
import { drawOn, logProbOn, noiseOf, noiseSourceOn, type DistributionAt, type DistributionEngine } from './fold.js';
import type { NoiseName } from './kinds/definition.js';
import { distributionSignature, type DistributionSpec } from './spec.js';
import { encodeDistribution } from './codec.js';

/** Which ONNX graph of a distribution to build: `logProb` (x -> log p per row) or `sample` (noise -> x, log p). */
export type DistributionGraph = 'logProb' | 'sample';
/** Every `DistributionGraph`, in a fixed order. */
export const distributionGraphs: readonly DistributionGraph[] = ['logProb', 'sample'];

/** Options of a distribution's ONNX export. */
export interface DistributionOnnxOptions {
  /** The graph to build. */
  readonly graph: DistributionGraph;
  /** Most steps of a sequential pass (a MAF's inverse) that are unrolled; default 1024 (see toOnnx). */
  readonly maxUnroll?: number;
}

/** The ONNX engine of the distribution passes: graph values, parameters as initializers (one per tensor, shared by every read). */
const onnxEngine = (g: Graph, maxUnroll: number): DistributionEngine<string, ParamTree> => {
  const read = new WeakMap<object, ValueNode<string>>();
  return {
    ops: graphOps(g),
    child: (params, key, at) => {
      const p = params instanceof tf.Tensor || Array.isArray(params) ? undefined : (params as { readonly [k: string]: ParamTree })[key];
      if (p === undefined) throw new OnnxExportError(at.path, `expected the parameters at '${at.paramPath || '$'}' to be a record with '${key}'`);
      return p;
    },
    values: (params, _shapes, at: DistributionAt) => {
      const known = read.get(params);
      if (known !== undefined) return known;
      const values = paramNode(g, params, at.paramPath === '' ? 'params' : at.paramPath);
      read.set(params, values);
      return values;
    },
    flow: (flow, params, dir, ins, ctx, at) => {
      const { outs, logDet } = lowerFlow(g, flow, params, dir, ins, ctx, { maxUnroll }, at);
      return { outs, logDet: total(g, logDet, ins[0] as string) };
    },
  };
};

/** The noise inputs' names, in the order of the base's noise: noise, noise0, noise1, component, precision. */
const noiseNames = (names: readonly NoiseName[]): string[] => {
  const counts = new Map<NoiseName, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  const seen = new Map<NoiseName, number>();
  return names.map((n) => {
    const i = seen.get(n) ?? 0;
    seen.set(n, i + 1);
    return namesOf(n, counts.get(n) ?? 1)[i] as string;
  });
};

/** The laws of the sample graph's noise inputs, with their parameters at export (metadata `noise`). */
const noiseLaws = (dist: DistributionSpec, params: ParamTree, names: readonly string[]): string =>
  tf.tidy(() => {
    const source = noiseSourceOn(tfjsDistributionEngine, dist, params);
    const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());
    return JSON.stringify(
      source.noise.map(({ shape, law }, i) => {
        const input = names[i] as string;
        switch (law.kind) {
          case 'normal':
            return { input, shape, law: 'standard normal' };
          case 'categorical':
            return { input, shape, law: 'categorical (one-hot rows)', probabilities: values(tf.softmax(law.logits(tfjsOps, source.spec, source.values))) };
          case 'gamma':
            return { input, shape, law: 'gamma per column', concentration: values(law.concentration(tfjsOps, source.spec, source.values)), rate: values(law.rate(tfjsOps, source.spec, source.values)) };
        }
      }),
    );
  });

/** The ONNX model (bytes of a ModelProto, opset 17) of `dist`'s log-density or sampling graph. */
export const distributionToOnnx = (dist: DistributionSpec, params: ParamTree, options: DistributionOnnxOptions): Uint8Array => {
  const sig = distributionSignature(dist);
  checkDistributionParams(dist, params);
  const g = new Graph(`typed-flows-distribution-${options.graph}`);
  const engine = onnxEngine(g, options.maxUnroll ?? DEFAULT_MAX_UNROLL);
  const props: { [key: string]: string } = { graph: options.graph, distribution: encodeDistribution(dist) };
  switch (options.graph) {
    case 'logProb': {
      const xs = namesOf('x', sig.event.length).map((n, i) => g.input(n, tensorDims(sig.event[i] as Shape)));
      const ctx = contextInputs(g, sig.cond);
      g.output('logp', logProbOn(engine, dist)(params, xs, ctx), [BATCH]);
      break;
    }
    case 'sample': {
      const noise = noiseOf(dist);
      const names = noiseNames(noise.map((n) => n.name));
      const inputs = noise.map((n, i) => g.input(names[i] as string, tensorDims(n.shape)));
      const ctx = contextInputs(g, sig.cond);
      const { xs, logProb } = drawOn(engine, dist)(params, inputs, ctx);
      namesOf('x', xs.length).forEach((n, i) => g.output(n, xs[i] as string, tensorDims(sig.event[i] as Shape)));
      g.output('logp', logProb, [BATCH]);
      props['noise'] = noiseLaws(dist, params, names);
      break;
    }
    default:
      throw new OnnxExportError('$', `unknown graph ${JSON.stringify((options as { graph?: unknown }).graph)}; expected ${distributionGraphs.join(' or ')}`);
  }
  return encodeModel(g.data(), { docString: `typed-flows distribution ${options.graph} graph`, props });
};
