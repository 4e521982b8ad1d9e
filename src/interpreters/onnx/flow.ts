/**
 * toOnnx: a flow and its parameters as an ONNX model computing one direction of the flow:
 *   forward  x[, context] -> y, logdet   (log|det dy/dx| per sample)
 *   inverse  y[, context] -> x, logdet   (log|det dx/dy| per sample)
 * It is the fold over the spec (src/dsl/fold.ts) with the primitive lowering of ./primitive.ts (a
 * kind's maths on the op algebra, or its override): the fold runs
 * chains, repeats, inverts and parallels exactly as it does for the tfjs passes, handing each
 * primitive the names of its input values. Inputs and outputs are channels-last like the tfjs
 * tensors ([N,H,W,C] for an image event [C,H,W], [N,D] for a vector) with a symbolic batch 'N'.
 */
import { fold, type Direction, type FoldTable } from '../../dsl/fold.js';
import type { ParamTree } from '../../dsl/params.js';
import { tensorShape, type CondShapes, type Shape } from '../../dsl/shape.js';
import { signature } from '../../dsl/signature.js';
import type { FlowSpec } from '../../dsl/spec.js';
import { checkParams } from '../param-shapes.js';
import { encodeModel } from './encode.js';
import { OnnxExportError } from './errors.js';
import { Graph, type Dim } from './graph.js';
import { sumLogDets, total, type LogDet } from './logdet.js';
import { DEFAULT_MAX_UNROLL, type ContextValues, type LoweringOptions } from './lowering.js';
import { lowerPrimitive } from './primitive.js';

/** Options of `toOnnx`. */
export interface ToOnnxOptions {
  /** The pass to export: 'forward' (data -> noise) or 'inverse'. */
  readonly direction: Direction;
  /** Most steps of a sequential pass (a MAF's inverse, an IAF's forward: one per element) that are unrolled; default 1024. */
  readonly maxUnroll?: number;
  /** The graph's name (default 'typed-flows'). */
  readonly name?: string;
}

export const BATCH: Dim = 'N';

/** The symbolic-batch dimensions of the tensor of an event shape (`batch` names the batch dimension). */
export const tensorDims = (s: Shape, batch: Dim = BATCH): Dim[] => [batch, ...tensorShape(s, 1).slice(1)];

/** Names of a list of tensors: `stem` alone for one, stem0, stem1, ... for several. */
export const namesOf = (stem: string, n: number): string[] => (n === 1 ? [stem] : Array.from({ length: n }, (_, i) => `${stem}${i}`));

/** Conditioning inputs of a graph: one per name, channels-last. */
export const contextInputs = (g: Graph, cond: CondShapes): ContextValues =>
  Object.fromEntries(
    Object.entries(cond).map(([k, s]) => {
      try {
        return [k, g.input(k, tensorDims(s))];
      } catch {
        throw new OnnxExportError('$', `the conditioning input '${k}' has the name of another input of the graph; rename it`);
      }
    }),
  );

const table = (g: Graph, ctx: ContextValues, options: LoweringOptions): FoldTable<string, LogDet> => ({
  primitive: lowerPrimitive({ g, ctx, options }),
  sequence: (children) => sumLogDets(children),
  parallel: (branches) => sumLogDets(branches),
  invert: (body) => body,
});

/**
 * The nodes of one pass of `flow` added to `g`: from the values `ins` (in the pass's direction) to the
 * returned values and log-det. For graphs that compose flows (CAFLOW).
 */
export const lowerFlow = (
  g: Graph,
  flow: FlowSpec,
  params: ParamTree,
  dir: Direction,
  ins: readonly string[],
  ctx: ContextValues,
  options: Partial<LoweringOptions> = {},
  at: { path?: string; paramPath?: string } = {},
): { outs: string[]; logDet: LogDet } => {
  const step = fold(flow, table(g, ctx, { maxUnroll: options.maxUnroll ?? DEFAULT_MAX_UNROLL }), { dir, ins, params, ...at });
  return { outs: [...(step.outs ?? [])], logDet: step.result };
};

/** The ONNX model (bytes of a ModelProto, opset 17) of one direction of `flow` with `params`. */
export const toOnnx = (flow: FlowSpec, params: ParamTree, options: ToOnnxOptions): Uint8Array => {
  const sig = signature(flow);
  checkParams(flow, params);
  const fwd = options.direction === 'forward';
  const [inShapes, outShapes] = fwd ? [sig.ins, sig.outs] : [sig.outs, sig.ins];
  const [inStem, outStem] = fwd ? ['x', 'y'] : ['y', 'x'];
  const g = new Graph(options.name ?? 'typed-flows');
  const ins = namesOf(inStem, inShapes.length).map((n, i) => g.input(n, tensorDims(inShapes[i] as Shape)));
  const ctx = contextInputs(g, sig.cond);
  const { outs, logDet } = lowerFlow(g, flow, params, options.direction, ins, ctx, options.maxUnroll === undefined ? {} : { maxUnroll: options.maxUnroll });
  namesOf(outStem, outs.length).forEach((n, i) => g.output(n, outs[i] as string, tensorDims(outShapes[i] as Shape)));
  g.output('logdet', total(g, logDet, ins[0] as string), [BATCH]);
  return encodeModel(g.data(), { docString: `typed-flows ${options.direction} pass`, props: { direction: options.direction, spec: JSON.stringify(flow) } });
};
