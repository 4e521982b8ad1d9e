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
 */
import * as tf from '@tensorflow/tfjs';
import { HALF_LOG_2PI } from '../algebra/normal.js';
import type { Context } from '../dsl/definition.js';
import { ShapeMismatchError } from '../dsl/errors.js';
import { fold, type FoldTable } from '../dsl/fold.js';
import { joinParamPath, paramProblems, type ParamRecord, type ParamTree } from '../dsl/params.js';
import { seededRandom } from '../dsl/random.js';
import { definitionOf } from '../dsl/registry.js';
import { formatShape, sameShape, tensorShape, type CondShapes, type Shape, type Shapes } from '../dsl/shape.js';
import type { FlowSpec } from '../dsl/spec.js';
import { init as initFlow } from '../interpreters/init.js';
import { checkParams, paramInfo, paramShapes, type ParamInfo } from '../interpreters/param-shapes.js';
import { seededNormal } from '../interpreters/seeded-normal.js';
import type { ContextArg, ContextOf, FirstTensorOf, InputsOf, TensorsOf } from '../interpreters/tensors.js';
import { checkInputs, run } from '../interpreters/transform.js';
import type { ShapeRecord, ShapeTree } from '../dsl/params.js';
import { initMixture, mixtureLogProb, mixtureParamShapes, mixtureSample } from './mixture.js';
import { initStudentT, studentTLogProb, studentTParamShapes, studentTSample } from './student-t.js';
import { distributionSignature, type Distribution, type DistributionSpec } from './spec.js';

/** The channels-last shape of one event's parameters: [H,W,C] for [C,H,W], [D] for [D]. */
const eventTensorShape = (s: Shape): number[] => tensorShape(s, 1).slice(1);

/** Sum over every axis but the batch axis. */
const perSampleSum = (t: tf.Tensor): tf.Tensor1D => (t.rank === 1 ? (t as tf.Tensor1D) : (tf.sum(t, Array.from({ length: t.rank - 1 }, (_, i) => i + 1)) as tf.Tensor1D));

const record = (params: ParamTree, path: string): ParamRecord => {
  if (params instanceof tf.Tensor || Array.isArray(params) || typeof params !== 'object') throw new TypeError(`distribution params at '${path}': expected a record`);
  return params as ParamRecord;
};

const tensorAt = (params: ParamTree, name: string, path: string): tf.Tensor => {
  const t = record(params, path)[name];
  if (!(t instanceof tf.Tensor)) throw new TypeError(`distribution params: missing tensor '${path === '' ? name : `${path}.${name}`}'`);
  return t;
};

const listAt = (params: ParamTree, path: string, length: number): readonly ParamTree[] => {
  if (!Array.isArray(params) || params.length !== length) throw new TypeError(`distribution params at '${path || '$'}': expected an array of ${length}`);
  return params as readonly ParamTree[];
};

/** The event shapes of a distribution. */
const eventsOf = (dist: DistributionSpec): readonly Shape[] => distributionSignature(dist).event;

/** The frozen location and scale of event i of a standardized distribution. */
const standardizerAt = (params: ParamTree, i: number, path: string): { location: tf.Tensor; scale: tf.Tensor } => {
  const events = record(params, path)['events'] as ParamTree;
  const p = (Array.isArray(events) ? (events as readonly ParamTree[])[i] : undefined) as ParamTree;
  const at = joinParamPath(joinParamPath(path, 'events'), i);
  return { location: tensorAt(p, 'location', at), scale: tensorAt(p, 'scale', at) };
};

/** The rows of a standardized distribution as its base sees them: (x - location) / scale, per event tensor. Not tidied. */
export const standardizedRows = (params: ParamTree, xs: readonly tf.Tensor[], path = ''): tf.Tensor[] =>
  xs.map((x, i) => {
    const { location, scale } = standardizerAt(params, i, path);
    return tf.div(tf.sub(x, location), scale);
  });

/** sum log scale over every event tensor: the log|det| of x -> (x - location) / scale is minus this. */
const sumLogScale = (dist: DistributionSpec, params: ParamTree, path: string): tf.Scalar =>
  tf.addN(eventsOf(dist).map((_, i) => tf.sum(tf.log(standardizerAt(params, i, path).scale)))) as tf.Scalar;

// ---------------------------------------------------------------------------------------------
// Parameter shapes and info

/** The shapes of a distribution's params (the tree `initDistribution` returns). */
export const distributionParamShapes = (dist: DistributionSpec): ShapeTree => {
  switch (dist.kind) {
    case 'standardNormal':
      return {};
    case 'diagonalNormal':
      return dist.shapes.map((s): ShapeRecord => ({ mean: eventTensorShape(s), logStd: eventTensorShape(s) }));
    case 'gaussianMixture':
      return mixtureParamShapes(dist);
    case 'studentT':
      return studentTParamShapes(dist);
    case 'transformed':
      return { base: distributionParamShapes(dist.base), flow: paramShapes(dist.flow) };
    case 'standardized':
      return { events: eventsOf(dist).map((s): ShapeRecord => ({ location: eventTensorShape(s), scale: eventTensorShape(s) })), base: distributionParamShapes(dist.base) };
  }
};

/** Every parameter with its dotted path ('flow.0.logScale', 'base.0.mean'), shape and trainability. */
export const distributionParamInfo = (dist: DistributionSpec, prefix = ''): ParamInfo[] => {
  switch (dist.kind) {
    case 'standardNormal':
      return [];
    case 'diagonalNormal':
      return dist.shapes.flatMap((s, i) =>
        ['mean', 'logStd'].map((name) => ({ path: joinParamPath(joinParamPath(prefix, i), name), shape: eventTensorShape(s), trainable: true, mixing: false })),
      );
    case 'studentT':
    case 'gaussianMixture':
      return Object.entries(dist.kind === 'studentT' ? studentTParamShapes(dist) : mixtureParamShapes(dist)).map(([name, shape]) => ({ path: joinParamPath(prefix, name), shape, trainable: true, mixing: false }));
    case 'transformed':
      return [...distributionParamInfo(dist.base, joinParamPath(prefix, 'base')), ...paramInfo(dist.flow, joinParamPath(prefix, 'flow'))];
    case 'standardized':
      return [
        ...eventsOf(dist).flatMap((s, i) =>
          ['location', 'scale'].map((name) => ({ path: joinParamPath(joinParamPath(joinParamPath(prefix, 'events'), i), name), shape: eventTensorShape(s), trainable: false, mixing: false })),
        ),
        ...distributionParamInfo(dist.base, joinParamPath(prefix, 'base')),
      ];
  }
};

/** Throws a TypeError listing every missing, extra or mis-shaped tensor by path. */
export const checkDistributionParams = (dist: DistributionSpec, params: ParamTree): void => {
  const problems = paramProblems(new Map(distributionParamInfo(dist).map((p) => [p.path, p.shape])), params, 'distribution');
  if (problems.length > 0) throw new TypeError(`distribution params do not match the spec:\n${problems.map((p) => `  ${p}`).join('\n')}`);
};

// ---------------------------------------------------------------------------------------------
// Costs

type Cost = 'analytic' | 'sequential';

const costTable: FoldTable<never, Cost> = {
  repeatOnce: true,
  // A bijector's forward pass is closed-form; its inverse is what `inverseCost` describes.
  primitive: (spec, node) => ({ outs: undefined, result: node.dir === 'inverse' ? definitionOf(spec).inverseCost : 'analytic' }),
  sequence: (children) => (children.includes('sequential') ? 'sequential' : 'analytic'),
  parallel: (branches) => (branches.includes('sequential') ? 'sequential' : 'analytic'),
  invert: (body) => body,
};

const flowCost = (flow: FlowSpec, dir: 'forward' | 'inverse'): Cost => fold(flow, costTable, { dir }).result;

const costOf = (dist: DistributionSpec, dir: 'forward' | 'inverse'): Cost =>
  dist.kind === 'standardized'
    ? costOf(dist.base, dir)
    : dist.kind !== 'transformed'
      ? 'analytic'
      : flowCost(dist.flow, dir) === 'sequential'
        ? 'sequential'
        : costOf(dist.base, dir);

/**
 * 'sequential' when drawing a sample runs some bijector's inverse that is autoregressive (D passes,
 * e.g. a MAF), 'analytic' when every step of sampling is one closed-form pass.
 */
export const samplingCost = (dist: DistributionSpec): Cost => costOf(dist, 'inverse');

/** 'sequential' when evaluating log p runs an autoregressive inverse (e.g. an inverted MAF, i.e. an IAF). */
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

/** log p(xs) per sample, not tidied: for use inside a tidy or a loss. */
export const logProbRaw = (dist: DistributionSpec, params: ParamTree, xs: readonly tf.Tensor[], ctx: Context = {}, path = ''): tf.Tensor1D => {
  switch (dist.kind) {
    case 'standardNormal':
      return tf.addN(xs.map((x) => tf.neg(perSampleSum(tf.add(tf.mul(tf.square(x), 0.5), HALF_LOG_2PI))))) as tf.Tensor1D;
    case 'diagonalNormal': {
      const ps = listAt(params, path, dist.shapes.length);
      return tf.addN(
        xs.map((x, i) => {
          const mean = tensorAt(ps[i] as ParamTree, 'mean', joinParamPath(path, i));
          const logStd = tensorAt(ps[i] as ParamTree, 'logStd', joinParamPath(path, i));
          const z = tf.mul(tf.sub(x, mean), tf.exp(tf.neg(logStd)));
          return tf.neg(perSampleSum(tf.add(tf.add(tf.mul(tf.square(z), 0.5), logStd), HALF_LOG_2PI)));
        }),
      ) as tf.Tensor1D;
    }
    case 'gaussianMixture':
      return mixtureLogProb(dist, record(params, path), xs[0] as tf.Tensor, path);
    case 'studentT':
      return studentTLogProb(record(params, path), xs[0] as tf.Tensor, path);
    case 'transformed': {
      const p = record(params, path);
      const flowParams = p['flow'] as ParamTree;
      checkParams(dist.flow, flowParams);
      const { outs, logDet } = run(dist.flow, flowParams, xs, ctx, 'forward');
      return tf.add(logProbRaw(dist.base, p['base'] as ParamTree, outs, ctx, joinParamPath(path, 'base')), logDet);
    }
    case 'standardized': {
      const zs = standardizedRows(params, xs, path);
      return tf.sub(logProbRaw(dist.base, record(params, path)['base'] as ParamTree, zs, ctx, joinParamPath(path, 'base')), sumLogScale(dist, params, path));
    }
  }
};

/** n draws and their log p, not tidied (reparameterised: differentiable in the params). */
export const sampleRaw = (
  dist: DistributionSpec,
  params: ParamTree,
  n: number,
  nextSeed: () => number,
  ctx: Context = {},
  path = '',
): { readonly xs: tf.Tensor[]; readonly logProb: tf.Tensor1D } => {
  switch (dist.kind) {
    case 'standardNormal': {
      const xs = dist.shapes.map((s) => seededNormal(tensorShape(s, n), 1, nextSeed()));
      return { xs, logProb: logProbRaw(dist, params, xs, ctx, path) };
    }
    case 'diagonalNormal': {
      const ps = listAt(params, path, dist.shapes.length);
      const eps = dist.shapes.map((s) => seededNormal(tensorShape(s, n), 1, nextSeed()));
      const xs = eps.map((e, i) => tf.add(tf.mul(e, tf.exp(tensorAt(ps[i] as ParamTree, 'logStd', joinParamPath(path, i)))), tensorAt(ps[i] as ParamTree, 'mean', joinParamPath(path, i))));
      return { xs, logProb: logProbRaw(dist, params, xs, ctx, path) };
    }
    case 'gaussianMixture':
    case 'studentT': {
      const xs = [dist.kind === 'studentT' ? studentTSample(dist, record(params, path), n, nextSeed, path) : mixtureSample(dist, record(params, path), n, nextSeed, path)];
      return { xs, logProb: logProbRaw(dist, params, xs, ctx, path) };
    }
    case 'transformed': {
      const p = record(params, path);
      const flowParams = p['flow'] as ParamTree;
      checkParams(dist.flow, flowParams);
      const base = sampleRaw(dist.base, p['base'] as ParamTree, n, nextSeed, ctx, joinParamPath(path, 'base'));
      const { outs, logDet } = run(dist.flow, flowParams, base.xs, ctx, 'inverse');
      return { xs: outs, logProb: tf.sub(base.logProb, logDet) };
    }
    case 'standardized': {
      const base = sampleRaw(dist.base, record(params, path)['base'] as ParamTree, n, nextSeed, ctx, joinParamPath(path, 'base'));
      const xs = base.xs.map((z, i) => {
        const { location, scale } = standardizerAt(params, i, path);
        return tf.add(tf.mul(z, scale), location);
      });
      return { xs, logProb: tf.sub(base.logProb, sumLogScale(dist, params, path)) };
    }
  }
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

const asList = (xs: tf.Tensor | readonly tf.Tensor[]): tf.Tensor[] => (xs instanceof tf.Tensor ? [xs] : [...xs]);

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

const initRaw = (dist: DistributionSpec, seed: number, data: tf.Tensor[] | undefined, ctx: Context): ParamTree => {
  switch (dist.kind) {
    case 'standardNormal':
      return {};
    case 'diagonalNormal':
      return dist.shapes.map((s, i): ParamTree => {
        const x = data?.[i];
        if (x === undefined || x.shape[0] === 0) return { mean: tf.zeros(eventTensorShape(s)), logStd: tf.zeros(eventTensorShape(s)) };
        const { mean, variance } = tf.moments(x, 0);
        return { mean, logStd: tf.mul(tf.log(tf.add(variance, 1e-12)), 0.5) };
      });
    case 'gaussianMixture':
      return initMixture(dist, seed, data?.[0]);
    case 'studentT':
      return initStudentT(dist, data?.[0]);
    case 'transformed': {
      const flow = initFlow(dist.flow, { seed, ...(data === undefined ? {} : { data: data as never }), ctx: ctx as never });
      const zs = data === undefined ? undefined : run(dist.flow, flow, data, ctx, 'forward').outs;
      return { base: initRaw(dist.base, seed + 1, zs, ctx), flow };
    }
    case 'standardized': {
      const events = eventsOf(dist).map((s, i): ParamTree => {
        const x = data?.[i];
        if (x === undefined || x.shape[0] === 0) return { location: tf.zeros(eventTensorShape(s)), scale: tf.ones(eventTensorShape(s)) };
        const { mean, variance } = tf.moments(x, 0);
        // A constant column keeps scale 1: dividing by 0 would put the whole density on a point.
        const std = tf.sqrt(variance);
        return { location: mean, scale: tf.where(tf.greater(std, 0), std, tf.onesLike(std)) };
      });
      const zs = data?.map((x, i) => {
        const { location, scale } = events[i] as { location: tf.Tensor; scale: tf.Tensor };
        return tf.div(tf.sub(x, location), scale);
      });
      return { events, base: initRaw(dist.base, seed, zs, ctx) };
    }
  }
};

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
  return tf.tidy(() => initRaw(dist, options.seed ?? 0, data, ctx) as tf.TensorContainer) as ParamTree;
};
