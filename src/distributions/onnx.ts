/**
 * A distribution and its parameters as an ONNX model (opset 17), built from the flows' lowerings
 * (src/interpreters/onnx), with the maths of src/distributions/interpret.ts:
 *
 * - 'logProb': x[, context] -> logp = log p_base(flow(x)) + log|det d flow(x)/dx| per row (`logProb`).
 *   Inputs are named x (x0, x1, ... for several event tensors).
 * - 'sample':  noise[, context] -> x, logp: the noise is the base's standard-normal draw (noise0,
 *   noise1, ... for several base tensors, shaped as the base's events), mapped through each flow's
 *   inverse; logp = log p_base(z) - log|det dx/dz| (`sampleAndLogProb` given the same noise).
 *
 * Several base tensors (a flow with several outputs) add their log-densities, as `logProb` does.
 * Tensors are channels-last with a symbolic batch 'N', like toOnnx's; log p is in nats.
 */
import * as tf from '@tensorflow/tfjs';
import { joinParamPath, type ParamTree } from '../dsl/params.js';
import { sizeOfAll, tensorShape, type Shape } from '../dsl/shape.js';
import { contextInputs } from '../interpreters/onnx/flow.js';
import { standardNormalLogProb } from '../algebra/normal.js';
import { BATCH, DEFAULT_MAX_UNROLL, encodeModel, Graph, graphOps, lowerFlow, namesOf, onnxOps, OnnxExportError, tensorDims, total, type ContextValues } from '../interpreters/onnx/index.js';
import { checkDistributionParams } from './interpret.js';
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

/** Where we are in the distribution spec ($.base.flow...) and in its params tree (base.flow...). */
interface At {
  readonly path: string;
  readonly paramPath: string;
}

const child = (at: At, key: 'base' | 'flow' | 'events'): At => ({ path: `${at.path}.${key}`, paramPath: joinParamPath(at.paramPath, key) });

const recordAt = (params: ParamTree | undefined, at: At): { readonly [k: string]: ParamTree } => {
  if (params === undefined || params instanceof tf.Tensor || Array.isArray(params) || typeof params !== 'object')
    throw new OnnxExportError(at.path, `expected the parameters at '${at.paramPath || '$'}' to be a record`);
  return params as { readonly [k: string]: ParamTree };
};

/** float32 values of a diagonal normal's mean and log std for event tensor i. */
const diagonalAt = (params: ParamTree, i: number, at: At): { mean: Float32Array; logStd: Float32Array } => {
  const p = Array.isArray(params) ? (params as readonly ParamTree[])[i] : undefined;
  const r = recordAt(p, { path: at.path, paramPath: joinParamPath(at.paramPath, i) });
  const mean = r['mean'];
  const logStd = r['logStd'];
  if (!(mean instanceof tf.Tensor) || !(logStd instanceof tf.Tensor)) throw new OnnxExportError(at.path, `missing mean or logStd at '${joinParamPath(at.paramPath, i)}'`);
  return { mean: Float32Array.from(mean.dataSync()), logStd: Float32Array.from(logStd.dataSync()) };
};

/** float32 values of a standardized distribution's location and scale for event tensor i, and sum log scale (float64). */
const standardizerAt = (params: ParamTree, i: number, at: At): { location: Float32Array; scale: Float32Array; sumLogScale: number } => {
  const events = recordAt(params, at)['events'];
  const p = Array.isArray(events) ? (events as readonly ParamTree[])[i] : undefined;
  const r = recordAt(p, { path: at.path, paramPath: joinParamPath(joinParamPath(at.paramPath, 'events'), i) });
  const location = r['location'];
  const scale = r['scale'];
  if (!(location instanceof tf.Tensor) || !(scale instanceof tf.Tensor)) throw new OnnxExportError(at.path, `missing location or scale at '${joinParamPath(joinParamPath(at.paramPath, 'events'), i)}'`);
  const s = Float32Array.from(scale.dataSync());
  return { location: Float32Array.from(location.dataSync()), scale: s, sumLogScale: s.reduce((a, b) => a + Math.log(b), 0) };
};

const sumAll = (g: Graph, terms: readonly string[]): string => (terms.length === 1 ? (terms[0] as string) : g.op('Sum', [...terms]));

const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/**
 * log N(z; 0, I) per row of standardised values zs, minus the (export-time constant) sum of log std:
 * -0.5 sum z^2 - sum logStd - D log(2 pi)/2.
 */
const normalLogProb = (g: Graph, zs: readonly string[], shapes: readonly Shape[], sumLogStd: number): string =>
  standardNormalLogProb(graphOps(g), zs, sizeOfAll(shapes), -sumLogStd);

/** Per-element float32 initializer of an event tensor's parameters, broadcast over the batch. */
const eventConstant = (g: Graph, stem: string, values: Float32Array, s: Shape): string => g.floats(stem, values, tensorShape(s, 1).slice(1));

const notLowered = (dist: DistributionSpec, at: At): never => {
  throw new OnnxExportError(
    at.path,
    dist.kind === 'gaussianMixture'
      ? 'a gaussianMixture distribution has no ONNX export yet (its log-density needs a batched MatMul and a LogSumExp over components, its sampling a categorical draw); use logProb and sample in tfjs'
      : 'a studentT distribution has no ONNX export yet (its sampling needs gamma draws, which ONNX has no operator for); use logProb and sample in tfjs',
  );
};

/** log p(xs) per row (logProbRaw). */
const logProbOf = (g: Graph, dist: DistributionSpec, params: ParamTree, xs: readonly string[], ctx: ContextValues, at: At, maxUnroll: number): string => {
  switch (dist.kind) {
    case 'gaussianMixture':
    case 'studentT':
      return notLowered(dist, at);
    case 'standardNormal':
      return normalLogProb(g, xs, dist.shapes, 0);
    case 'diagonalNormal': {
      let sumLogStd = 0;
      const zs = dist.shapes.map((s, i) => {
        const { mean, logStd } = diagonalAt(params, i, at);
        sumLogStd += logStd.reduce((a, b) => a + b, 0);
        // z = (x - mean) * exp(-logStd), exp taken in float64 before rounding to float32.
        const invStd = Float32Array.from(logStd, (v) => Math.exp(-v));
        return onnxOps.mul(g, onnxOps.sub(g, xs[i] as string, eventConstant(g, 'base_mean', mean, s)), eventConstant(g, 'base_inv_std', invStd, s));
      });
      return normalLogProb(g, zs, dist.shapes, sumLogStd);
    }
    case 'transformed': {
      const p = recordAt(params, at);
      const flowAt = child(at, 'flow');
      const { outs, logDet } = lowerFlow(g, dist.flow, p['flow'] as ParamTree, 'forward', xs, ctx, { maxUnroll }, flowAt);
      const base = logProbOf(g, dist.base, p['base'] as ParamTree, outs, ctx, child(at, 'base'), maxUnroll);
      return onnxOps.add(g, base, total(g, logDet, xs[0] as string));
    }
    case 'standardized': {
      let sumLogScale = 0;
      const zs = distributionSignature(dist).event.map((s, i) => {
        const { location, scale, sumLogScale: l } = standardizerAt(params, i, at);
        sumLogScale += l;
        const inv = Float32Array.from(scale, (v) => 1 / v);
        return onnxOps.mul(g, onnxOps.sub(g, xs[i] as string, eventConstant(g, 'standardize_location', location, s)), eventConstant(g, 'standardize_inv_scale', inv, s));
      });
      const base = logProbOf(g, dist.base, recordAt(params, at)['base'] as ParamTree, zs, ctx, child(at, 'base'), maxUnroll);
      return onnxOps.shift(g, base, -sumLogScale);
    }
  }
};

/** The innermost base's event shapes: the shapes of the noise. */
const noiseShapes = (dist: DistributionSpec): readonly Shape[] =>
  dist.kind === 'transformed' || dist.kind === 'standardized' ? noiseShapes(dist.base) : dist.kind === 'gaussianMixture' || dist.kind === 'studentT' ? [dist.shape] : dist.shapes;

/** Draws from standard-normal noise and their log p (sampleRaw with the noise given). */
const sampleOf = (g: Graph, dist: DistributionSpec, params: ParamTree, noise: readonly string[], ctx: ContextValues, at: At, maxUnroll: number): { xs: string[]; logp: string } => {
  switch (dist.kind) {
    case 'gaussianMixture':
    case 'studentT':
      return notLowered(dist, at);
    case 'standardNormal':
      return { xs: [...noise], logp: normalLogProb(g, noise, dist.shapes, 0) };
    case 'diagonalNormal': {
      let sumLogStd = 0;
      const xs = dist.shapes.map((s, i) => {
        const { mean, logStd } = diagonalAt(params, i, at);
        sumLogStd += logStd.reduce((a, b) => a + b, 0);
        const std = Float32Array.from(logStd, (v) => Math.exp(v));
        return onnxOps.add(g, onnxOps.mul(g, noise[i] as string, eventConstant(g, 'base_std', std, s)), eventConstant(g, 'base_mean', mean, s));
      });
      // The noise is the standardised draw itself: log p needs no division.
      return { xs, logp: normalLogProb(g, noise, dist.shapes, sumLogStd) };
    }
    case 'transformed': {
      const p = recordAt(params, at);
      const base = sampleOf(g, dist.base, p['base'] as ParamTree, noise, ctx, child(at, 'base'), maxUnroll);
      const { outs, logDet } = lowerFlow(g, dist.flow, p['flow'] as ParamTree, 'inverse', base.xs, ctx, { maxUnroll }, child(at, 'flow'));
      return { xs: outs, logp: onnxOps.sub(g, base.logp, total(g, logDet, base.xs[0] as string)) };
    }
    case 'standardized': {
      const base = sampleOf(g, dist.base, recordAt(params, at)['base'] as ParamTree, noise, ctx, child(at, 'base'), maxUnroll);
      let sumLogScale = 0;
      const xs = distributionSignature(dist).event.map((s, i) => {
        const { location, scale, sumLogScale: l } = standardizerAt(params, i, at);
        sumLogScale += l;
        return onnxOps.add(g, onnxOps.mul(g, base.xs[i] as string, eventConstant(g, 'standardize_scale', scale, s)), eventConstant(g, 'standardize_location', location, s));
      });
      return { xs, logp: onnxOps.shift(g, base.logp, -sumLogScale) };
    }
  }
};

/** The ONNX model (bytes of a ModelProto, opset 17) of `dist`'s log-density or sampling graph. */
export const distributionToOnnx = (dist: DistributionSpec, params: ParamTree, options: DistributionOnnxOptions): Uint8Array => {
  const sig = distributionSignature(dist);
  checkDistributionParams(dist, params);
  const maxUnroll = options.maxUnroll ?? DEFAULT_MAX_UNROLL;
  const g = new Graph(`typed-flows-distribution-${options.graph}`);
  const root: At = { path: '$', paramPath: '' };
  switch (options.graph) {
    case 'logProb': {
      const xs = namesOf('x', sig.event.length).map((n, i) => g.input(n, tensorDims(sig.event[i] as Shape)));
      const ctx = contextInputs(g, sig.cond);
      g.output('logp', logProbOf(g, dist, params, xs, ctx, root, maxUnroll), [BATCH]);
      break;
    }
    case 'sample': {
      const shapes = noiseShapes(dist);
      const noise = namesOf('noise', shapes.length).map((n, i) => g.input(n, tensorDims(shapes[i] as Shape)));
      const ctx = contextInputs(g, sig.cond);
      const { xs, logp } = sampleOf(g, dist, params, noise, ctx, root, maxUnroll);
      namesOf('x', xs.length).forEach((n, i) => g.output(n, xs[i] as string, tensorDims(sig.event[i] as Shape)));
      g.output('logp', logp, [BATCH]);
      break;
    }
    default:
      throw new OnnxExportError('$', `unknown graph ${JSON.stringify((options as { graph?: unknown }).graph)}; expected ${distributionGraphs.join(' or ')}`);
  }
  return encodeModel(g.data(), { docString: `typed-flows distribution ${options.graph} graph`, props: { graph: options.graph, distribution: encodeDistribution(dist) } });
};
