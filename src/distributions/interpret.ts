/**
 * The distribution interpreters, plain functions of (dist, params) like the flows':
 *
 * - `logProb(dist, params)(x, ctx?)`: log p(x) per sample [N] (one forward pass of each flow);
 * - `sample(dist, params)(n, { seed, ctx })`: n draws (one inverse pass of each flow);
 * - `sampleAndLogProb(dist, params)(n, { seed, ctx })`: draws and their log p from the same pass
 *   (log p(x) = log p_base(z) - log|det dx/dz|), without a second, forward pass;
 * - `initDistribution(dist, { seed, data, ctx })`: a params tree, data-dependent where layers are;
 * - `samplingCost(dist)` / `densityCost(dist)`: whether drawing (resp. evaluating log p) needs a
 *   sequential, autoregressive pass somewhere ('sequential') or only closed-form ones ('analytic').
 *
 * Params mirror the spec: `{}` for a standard normal, one `{ mean, logStd }` per event tensor for a
 * diagonal normal (channels-last, like the tensors), `{ base, flow }` for a transformed distribution,
 * `{ events: [{ location, scale }, ...], base }` for a standardized one (frozen: never trained).
 * Every pass runs under tf.tidy and returns only its outputs. Sampling is differentiable in the
 * params (reparameterised: the noise is drawn first, then mapped), which `fitVariational` relies on.
 *
 * Each of these is a table for the one fold over distributions (./fold.ts), and the passes are the
 * fold's, run on the tfjs engine (`tfjsDistributionEngine`) with the noise drawn by ./noise.ts: the
 * ONNX and PyTorch exports run the same passes on their engines.
 */
import * as tf from '@tensorflow/tfjs';
import type { ValueNode } from '../algebra/ops.js';
import { tfjsOps } from '../algebra/tfjs.js';
import type { Context } from '../dsl/definition.js';
import { ShapeMismatchError } from '../dsl/errors.js';
import { fold, type FoldTable } from '../dsl/fold.js';
import { flattenShapes, joinParamPath, paramProblems, type ParamRecord, type ParamTree, type ShapeTree } from '../dsl/params.js';
import { seededRandom } from '../dsl/random.js';
import { definitionOf } from '../dsl/registry.js';
import { formatShape, sameShape, tensorShape, type CondShapes, type Shapes } from '../dsl/shape.js';
import type { FlowSpec } from '../dsl/spec.js';
import { init as initFlow } from '../interpreters/init.js';
import { checkParams, paramInfo, paramShapes, type ParamInfo } from '../interpreters/param-shapes.js';
import type { ContextArg, ContextOf, FirstTensorOf, InputsOf, TensorsOf } from '../interpreters/tensors.js';
import { asList, checkInputs, run } from '../interpreters/transform.js';
import { childAt, drawOn, eventsOf, foldDistribution, logProbOn, noiseSourceOn, rootAt, standardizeOn, standardizerShapes, type DistributionAt, type DistributionEngine } from './fold.js';
import { summaryRows, worstCost, type Cost } from '../interpreters/summary.js';
import { drawNoise } from './noise.js';
import { distributionSignature, type Distribution, type DistributionSpec, type StandardizedSpec } from './spec.js';

/** The params subtree `key`, with a message naming its path when the tree is not a record. */
const childOf = (params: ParamTree, key: string, at: DistributionAt): ParamTree => {
  if (params instanceof tf.Tensor || Array.isArray(params) || typeof params !== 'object') throw new TypeError(`distribution params at '${at.paramPath || '$'}': expected a record`);
  const p = (params as ParamRecord)[key];
  if (p === undefined) throw new TypeError(`distribution params: missing '${joinParamPath(at.paramPath, key)}'`);
  return p;
};

/** The tfjs engine of the distribution passes (./fold.ts): tensors, the params tree as is, flows by `run`. */
export const tfjsDistributionEngine: DistributionEngine<tf.Tensor, ParamTree> = {
  ops: tfjsOps,
  child: childOf,
  values: (params) => params as ValueNode<tf.Tensor>,
  flow: (flow, params, dir, ins, ctx) => {
    checkParams(flow, params);
    return run(flow, params, ins, ctx as Context, dir);
  },
};

/** The rows of a standardized distribution as its base sees them: (x - location) / scale, per event tensor. Not tidied. */
export const standardizedRows = (dist: StandardizedSpec, params: ParamTree, xs: readonly tf.Tensor[]): tf.Tensor[] => standardizeOn(tfjsDistributionEngine, dist, params, xs);

// ---------------------------------------------------------------------------------------------
// Parameter shapes and info

/** The shapes of a distribution's params (the tree `initDistribution` returns). */
export const distributionParamShapes = (dist: DistributionSpec): ShapeTree =>
  foldDistribution<ShapeTree>(dist, {
    base: (spec, definition) => definition.params.shapes(spec),
    transformed: (spec, base) => ({ base, flow: paramShapes(spec.flow) }),
    standardized: (spec, base) => ({ events: standardizerShapes(spec), base }),
  });

/** Every parameter with its dotted path ('flow.0.logScale', 'base.0.mean'), shape and trainability. */
export const distributionParamInfo = (dist: DistributionSpec, prefix = ''): ParamInfo[] => {
  const leaves = (shapes: ShapeTree, at: string, trainable: boolean): ParamInfo[] => flattenShapes(shapes, at).map(([path, shape]) => ({ path, shape, trainable, mixing: false }));
  return foldDistribution<ParamInfo[]>(
    dist,
    {
      base: (spec, definition, at) => leaves(definition.params.shapes(spec), at.paramPath, true),
      transformed: (spec, base, at) => [...base, ...paramInfo(spec.flow, childAt(at, 'flow').paramPath)],
      // The standardizer is frozen: set from the data at initialisation, never trained.
      standardized: (spec, base, at) => [...leaves(standardizerShapes(spec), childAt(at, 'events').paramPath, false), ...base],
    },
    { path: '$', paramPath: prefix },
  );
};

/** Throws a TypeError listing every missing, extra or mis-shaped tensor by path. */
export const checkDistributionParams = (dist: DistributionSpec, params: ParamTree): void => {
  const problems = paramProblems(new Map(distributionParamInfo(dist).map((p) => [p.path, p.shape])), params, 'distribution');
  if (problems.length > 0) throw new TypeError(`distribution params do not match the spec:\n${problems.map((p) => `  ${p}`).join('\n')}`);
};

// ---------------------------------------------------------------------------------------------
// Costs

// A flow's cost in each direction is the summary's (src/interpreters/summary.ts): one definition of
// what a pass costs, including an ODE solve ('integrated'). A base draws or scores in closed form.
const costOf = (dist: DistributionSpec, dir: 'forward' | 'inverse'): Cost =>
  foldDistribution<Cost>(dist, {
    base: () => 'analytic',
    transformed: (spec, base) => {
      const root = summaryRows(spec.flow as FlowSpec)[0];
      return worstCost([base, root === undefined ? 'analytic' : dir === 'inverse' ? root.inverseCost : root.forwardCost]);
    },
    standardized: (_spec, base) => base,
  });

/**
 * 'sequential' when drawing a sample runs some bijector's inverse that is autoregressive (D passes,
 * e.g. a MAF), 'integrated' when it solves an ODE (a cnf), 'analytic' when every step of sampling is
 * one closed-form pass.
 */
export const samplingCost = (dist: DistributionSpec): Cost => costOf(dist, 'inverse');

/** 'sequential' when evaluating log p runs an autoregressive inverse (e.g. an inverted MAF, i.e. an IAF), 'integrated' when it solves an ODE. */
export const densityCost = (dist: DistributionSpec): Cost => costOf(dist, 'forward');

// ---------------------------------------------------------------------------------------------
// Raw passes (not tidied; callers tidy)

const checkContext = (cond: CondShapes, ctx: Context, batch: number, what: string): void => {
  for (const [name, s] of Object.entries(cond)) {
    const t = Object.hasOwn(ctx, name) ? ctx[name] : undefined;
    if (t === undefined) throw new ShapeMismatchError(`${what}: missing conditioning input '${name}' (event ${formatShape(s)}); pass it in the context`);
    const want = tensorShape(s, batch);
    if (!sameShape(t.shape, want)) throw new ShapeMismatchError(`${what}: conditioning '${name}' has shape ${formatShape(t.shape)}, expected [${want.join(',')}] (${batch} samples)`);
  }
};

/** Where a distribution's params sit in a larger tree (`path`, '' for the root): for messages. */
const atParams = (path: string): DistributionAt => ({ path: '$', paramPath: path });

/** log p(xs) per sample, not tidied: for use inside a tidy or a loss. `path`: where `params` sit, for messages. */
export const logProbRaw = (dist: DistributionSpec, params: ParamTree, xs: readonly tf.Tensor[], ctx: Context = {}, path = ''): tf.Tensor1D =>
  logProbOn(tfjsDistributionEngine, dist, atParams(path))(params, xs, ctx) as tf.Tensor1D;

/** n draws and their log p, not tidied (reparameterised: differentiable in the params). */
export const sampleRaw = (
  dist: DistributionSpec,
  params: ParamTree,
  n: number,
  nextSeed: () => number,
  ctx: Context = {},
  path = '',
): { readonly xs: tf.Tensor[]; readonly logProb: tf.Tensor1D } => {
  const source = noiseSourceOn(tfjsDistributionEngine, dist, params, atParams(path));
  const noise = drawNoise(source.spec, source.noise, source.values, n, nextSeed);
  const { xs, logProb: lp } = drawOn(tfjsDistributionEngine, dist, atParams(path))(params, noise, ctx);
  return { xs: [...xs], logProb: lp as tf.Tensor1D };
};

/** A stream of integer seeds from one seed: the noise of every event tensor and nested base. */
export const seedStream = (seed: number): (() => number) => {
  const random = seededRandom(seed);
  return () => Math.floor(random() * 2 ** 31);
};

// ---------------------------------------------------------------------------------------------
// Typed interpreters

/**
 * The data argument: the tensors of the event shapes (a bare tensor for a single-event distribution),
 * and for a distribution whose event count is only known at run time (decoded from JSON) a tensor or
 * a list of them, checked when the pass runs.
 */
export type EventInputs<E extends Shapes> = number extends E['length'] ? tf.Tensor | readonly tf.Tensor[] : InputsOf<E>;


/** logProb(dist, params)(x, ctx) -> log p(x) per sample [N], in nats. */
export const logProb = <E extends Shapes, C extends CondShapes>(dist: Distribution<E, C>, params: ParamTree) => {
  const sig = distributionSignature(dist);
  checkDistributionParams(dist, params);
  return (x: EventInputs<E>, ...ctx: ContextArg<C>): tf.Tensor1D => {
    const xs = asList(x as tf.Tensor | readonly tf.Tensor[]);
    checkInputs(xs, sig.event, 'logProb');
    const context = (ctx[0] ?? {}) as Context;
    checkContext(sig.cond, context, xs[0]?.shape[0] ?? 0, 'logProb');
    return tf.tidy(() => logProbRaw(dist, params, xs, context));
  };
};

/** The options of a draw: a seed (default 0) and, for a conditional distribution, its context (n rows). */
export type SampleArgs<C extends CondShapes> = [keyof C] extends [never]
  ? [options?: { readonly seed?: number }]
  : string extends keyof C
    ? [options?: { readonly seed?: number; readonly ctx?: { readonly [name: string]: tf.Tensor } }]
    : [options: { readonly seed?: number; readonly ctx: ContextOf<C> }];

/** Draws of a distribution: the event tensors, batch first and channels last ([n, ...]). */
export interface Samples<E extends Shapes> {
  /** The first event tensor (the only one for a single-event distribution). */
  readonly x: FirstTensorOf<E>;
  /** Every event tensor, in the order of the distribution's events. */
  readonly xs: TensorsOf<E>;
}

/** Draws and their log-densities per sample, from one sampling pass. */
export interface SamplesWithLogProb<E extends Shapes> extends Samples<E> {
  /** log p of each draw [n], from the sampling pass itself. */
  readonly logProb: tf.Tensor1D;
}

const drawer = <E extends Shapes, C extends CondShapes>(dist: Distribution<E, C>, params: ParamTree, what: string) => {
  const sig = distributionSignature(dist);
  checkDistributionParams(dist, params);
  return (n: number, options: { readonly seed?: number; readonly ctx?: Context } | undefined): { xs: tf.Tensor[]; logProb: tf.Tensor1D } => {
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`${what}: n must be a positive integer, got ${n}`);
    const ctx = options?.ctx ?? {};
    checkContext(sig.cond, ctx, n, what);
    const nextSeed = seedStream(options?.seed ?? 0);
    return tf.tidy(() => sampleRaw(dist, params, n, nextSeed, ctx));
  };
};

/**
 * sample(dist, params)(n, { seed, ctx }) -> { x, xs }: n draws, deterministic in `seed`. Runs each
 * flow's inverse: see `samplingCost` for whether that is sequential.
 */
export const sample = <E extends Shapes, C extends CondShapes>(dist: Distribution<E, C>, params: ParamTree) => {
  const draw = drawer(dist, params, 'sample');
  return (n: number, ...options: SampleArgs<C>): Samples<E> => {
    const { xs, logProb: lp } = draw(n, options[0] as { seed?: number; ctx?: Context } | undefined);
    lp.dispose();
    return { x: xs[0] as FirstTensorOf<E>, xs: xs as unknown as TensorsOf<E> };
  };
};

/** sampleAndLogProb(dist, params)(n, { seed, ctx }) -> { x, xs, logProb }: the draws of `sample` with their log p. */
export const sampleAndLogProb = <E extends Shapes, C extends CondShapes>(dist: Distribution<E, C>, params: ParamTree) => {
  const draw = drawer(dist, params, 'sampleAndLogProb');
  return (n: number, ...options: SampleArgs<C>): SamplesWithLogProb<E> => {
    const { xs, logProb: lp } = draw(n, options[0] as { seed?: number; ctx?: Context } | undefined);
    return { x: xs[0] as FirstTensorOf<E>, xs: xs as unknown as TensorsOf<E>, logProb: lp };
  };
};
// ---------------------------------------------------------------------------------------------
// Initialisation

/** Options of `initDistribution`. */
export interface DistributionInitOptions<E extends Shapes, C extends CondShapes> {
  /** Seed of the random initialisations. */
  readonly seed?: number;
  /** A batch of data for data-dependent initialisation (each ActNorm, and a diagonal normal base, fit it). */
  readonly data?: EventInputs<E>;
  /** Context tensors for the init batch of a conditional distribution. */
  readonly ctx?: ContextOf<C>;
}
type Init = (seed: number, data: readonly tf.Tensor[] | undefined, ctx: Context) => ParamTree;

const initTable = {
  base: (spec, definition) => (seed, data) => definition.params.init(spec, { seed, ...(data === undefined ? {} : { data }) }),
  transformed: (spec, base) => (seed, data, ctx) => {
    const flow = initFlow(spec.flow, { seed, ...(data === undefined ? {} : { data: data as never }), ctx: ctx as never });
    const zs = data === undefined ? undefined : run(spec.flow, flow, data, ctx, 'forward').outs;
    return { base: base(seed + 1, zs, ctx), flow };
  },
  standardized: (spec, base) => (seed, data, ctx) => {
    const events = eventsOf(spec).map((s, i): ParamTree => {
      const x = data?.[i];
      const shape = tensorShape(s, 1).slice(1);
      if (x === undefined || x.shape[0] === 0) return { location: tf.zeros(shape), scale: tf.ones(shape) };
      const { mean, variance } = tf.moments(x, 0);
      // A constant column keeps scale 1: dividing by 0 would put the whole density on a point.
      const std = tf.sqrt(variance);
      return { location: mean, scale: tf.where(tf.greater(std, 0), std, tf.onesLike(std)) };
    });
    const zs = data === undefined ? undefined : standardizeOn(tfjsDistributionEngine, spec, { events }, data, rootAt);
    return { events, base: base(seed, zs, ctx) };
  },
} satisfies Parameters<typeof foldDistribution<Init>>[1];

/**
 * Fresh parameters for `dist`, deterministic in `seed` (default 0). Given `data` (and its context),
 * the data flows through the layers as they are initialised: each ActNorm normalises its own input
 * and a diagonal normal base starts at the mean and std of what reaches it.
 */
export const initDistribution = <E extends Shapes, C extends CondShapes>(dist: Distribution<E, C>, options: DistributionInitOptions<E, C> = {}): ParamTree => {
  const sig = distributionSignature(dist);
  const raw = options.data as tf.Tensor | readonly tf.Tensor[] | undefined;
  const data = raw === undefined ? undefined : asList(raw);
  const ctx = (options.ctx ?? {}) as Context;
  if (data !== undefined) {
    checkInputs(data, sig.event, 'init data');
    checkContext(sig.cond, ctx, data[0]?.shape[0] ?? 0, 'init data');
  }
  return tf.tidy(() => foldDistribution<Init>(dist, initTable)(options.seed ?? 0, data, ctx) as tf.TensorContainer) as ParamTree;
};
