/**
 * CAFLOW as ONNX models (opset 17), composed from the flows' lowerings (src/interpreters/onnx):
 *
 * - 'forward' (toLatents):   W, Y -> z{i}_{j} (latent j of G_i, j = its scale), logp = log p(W | Y)
 * - 'inverse' (fromLatents): z{i}_{j}, Y -> W, logp = log p(W | Y) of the generated W
 * - 'sample' (sample()):     Y [B], noise{i}_{j} [B*k] (standard normal), temperature [n] (one per
 *                            scale) -> W [B*k] and logp [B*k], the k samples of condition b at rows
 *                            b*k..b*k+k-1, best first (ranked by logp as sample() ranks them)
 * - 'likelihood':            W, Y -> logp = log p(W | Y), logpY = log p_R(Y), joint = lambda logpY + logp
 *
 * Tensors are NHWC with a symbolic batch; log-likelihoods are in nats per sample.
 */
import { signature } from '../dsl/signature.js';
import type { Shape } from '../dsl/shape.js';
import { BATCH, encodeModel, Graph, graphOps, lowerFlow, onnxOps, tensorDims, total, type LogDet } from '../interpreters/onnx/index.js';
import { encodeCondition, flowParams, flowSite, fromLatents, likelihoodTerms, toLatents, type CaflowEngine } from './maths.js';
import { imageShapes, type CaflowSpec } from './model.js';
import type { CaflowParams } from './params.js';
import type { CaflowDirection } from './directions.js';
export { caflowDirections, type CaflowDirection } from './directions.js';

/** Options of CAFLOW's ONNX export. */
export interface CaflowOnnxOptions {
  /** The graph to build: 'forward', 'inverse' or 'sample'. */
  readonly direction: CaflowDirection;
  /** Samples per condition of the 'sample' graph (default 8). */
  readonly k?: number;
}

/** Name of latent j (its scale) of G_i in the forward and inverse graphs, and of its noise in 'sample'. */
export const latentName = (i: number, scale: number): string => `z${i}_${scale}`;
/** Name of the noise input of latent j (its scale) of G_i in the 'sample' graph. */
export const noiseName = (i: number, scale: number): string => `noise${i}_${scale}`;

/** The latents of G_i with their scales (CAFLOW: i..n-1; Dual-Glow+: i). */
export const priorLatents = (m: CaflowSpec, i: number): Array<{ scale: number; shape: Shape }> =>
  imageShapes(signature(m.priors[i] as CaflowSpec['priors'][number]).outs, 'latent of a prior').map((shape, j) => ({ scale: i + j, shape }));

/** CAFLOW's maths (src/caflow/maths.ts) as graph nodes: each flow lowered at its spec and parameter path. */
const graphEngine = (g: Graph, m: CaflowSpec, params: CaflowParams): CaflowEngine<string> => ({
  ops: graphOps(g),
  pass: (flow, dir, ins, ctx) => {
    const site = flowSite(m, flow);
    const { outs, logDet } = lowerFlow(g, site.spec, flowParams(params, flow), dir, ins, ctx, {}, { path: site.path, paramPath: site.paramPath });
    return { outs, logDet: total(g, logDet as LogDet, ins[0] as string) };
  },
});

/** [B, ...] -> [B*k, ...], each row repeated k times in place (src/caflow/sample.ts repeatEach). */
const repeatEach = (g: Graph, x: string, dims: readonly number[], k: number): string => {
  if (k === 1) return x;
  const expanded = g.op('Expand', [g.op('Unsqueeze', [x, g.ints([1])]), g.ints([1, k, ...dims.map(() => 1)])]);
  return onnxOps.reshapeBatch(g, expanded, dims);
};

/** Sorts the k rows of each condition by logp, best first: TopK per condition, then gathers the rows. */
const rank = (g: Graph, w: string, logp: string, k: number): { w: string; logp: string } => {
  const [values, indices] = g.nodeN('TopK', [onnxOps.reshapeBatch(g, logp, [k]), g.ints([k])], 2, { axis: 1, largest: 1, sorted: 1 }) as [string, string];
  const conditions = g.op('Div', [g.op('Gather', [g.op('Shape', [logp]), g.intScalar(0)], { axis: 0 }), g.intScalar(k)]);
  const offsets = g.op('Mul', [g.op('Range', [g.intScalar(0), conditions, g.intScalar(1)]), g.intScalar(k)]);
  const rows = g.op('Reshape', [g.op('Add', [indices, g.op('Unsqueeze', [offsets, g.ints([1])])]), g.ints([-1])]);
  return { w: g.op('Gather', [w, rows], { axis: 0 }), logp: g.op('Reshape', [values, g.ints([-1])]) };
};

/** The ONNX model of one of CAFLOW's graphs (see the module comment). */
export const caflowToOnnx = (m: CaflowSpec, params: CaflowParams, options: CaflowOnnxOptions): Uint8Array => {
  const g = new Graph(`caflow-${options.direction}`);
  const engine = graphEngine(g, m, params);
  const [wShape] = signature(m.encoderW).ins as [Shape];
  const [yShape] = signature(m.encoderY).ins as [Shape];
  const n = m.priors.length;
  const k = options.k ?? 8;
  const props: Record<string, string> = { direction: options.direction, model: JSON.stringify(m) };
  switch (options.direction) {
    case 'forward':
    case 'likelihood': {
      const w = g.input('W', tensorDims(wShape));
      const y = g.input('Y', tensorDims(yShape));
      if (options.direction === 'forward') {
        const { z, logp } = toLatents(engine, m, w, encodeCondition(engine, m, y).sqD);
        z.forEach((zi, i) => priorLatents(m, i).forEach(({ scale, shape }, j) => g.output(latentName(i, scale), zi[j] as string, tensorDims(shape))));
        g.output('logp', logp, [BATCH]);
        break;
      }
      const terms = likelihoodTerms(engine, m, w, y);
      g.output('logp', terms.conditional, [BATCH]);
      g.output('logpY', terms.logpY, [BATCH]);
      g.output('joint', terms.joint, [BATCH]);
      props['lambda'] = String(m.lambda);
      break;
    }
    case 'inverse': {
      const z = m.priors.map((_, i) => priorLatents(m, i).map(({ scale, shape }) => g.input(latentName(i, scale), tensorDims(shape))));
      const y = g.input('Y', tensorDims(yShape));
      const out = fromLatents(engine, m, z, encodeCondition(engine, m, y).sqD);
      g.output('W', out.w, tensorDims(wShape));
      g.output('logp', out.logp, [BATCH]);
      break;
    }
    case 'sample': {
      if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`caflowToOnnx: k must be a positive integer, got ${k}`);
      // Y has B rows, the noise and the outputs B*k: two symbolic sizes.
      const y = g.input('Y', tensorDims(yShape, 'B'));
      const noise = m.priors.map((_, i) => priorLatents(m, i).map(({ scale, shape }) => ({ scale, value: g.input(noiseName(i, scale), tensorDims(shape)) })));
      const temperature = g.input('temperature', [n]);
      // R runs once per condition; its squeezed latents are repeated for the k samples.
      const { sqD } = encodeCondition(engine, m, y);
      const dShapes = signature(m.encoderY).outs;
      const sqDk = sqD.map((d, j) => {
        const [c, h, w] = dShapes[j] as [number, number, number];
        return repeatEach(g, d, [h / 2, w / 2, 4 * c], k);
      });
      const z = noise.map((latents) => latents.map(({ scale, value }) => onnxOps.mul(g, value, g.op('Gather', [temperature, g.ints([scale])], { axis: 0 }))));
      const out = fromLatents(engine, m, z, sqDk);
      const ranked = rank(g, out.w, out.logp, k);
      g.output('W', ranked.w, tensorDims(wShape));
      g.output('logp', ranked.logp, [BATCH]);
      props['k'] = String(k);
      break;
    }
  }
  return encodeModel(g.data(), { docString: `CAFLOW ${options.direction} graph (typed-flows)`, props });
};
