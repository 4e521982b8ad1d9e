/**
 * The one fold over distributions, and the passes written once on it for every engine.
 *
 * A distribution is a base (a kind with a definition, ./kinds), a flow pushed through one
 * (`transformed`) or one seen in the data's units (`standardized`). `foldDistribution` is the
 * catamorphism over that structure; param shapes, param info, costs, initialisation and the passes
 * below are each one table for it. The passes are written against a `DistributionEngine`: the op
 * algebra of an engine plus how it reads parameters and runs a flow's pass, so tfjs (./interpret.ts),
 * ONNX (./onnx.ts) and PyTorch (./pytorch.ts) run the same maths:
 *
 *   log p(x):  transformed: log p_base(flow(x)) + log|det d flow(x)/dx|
 *              standardized: log p_base((x - location) / scale) - sum log scale
 *   draw:      noise -> z = the base's fromNoise(noise), then x = flow^-1(z) / location + scale z, with
 *              log p(x) = log p_base(z) - log|det dx/dz| (no second, forward pass)
 */
import { param, type Context, type Ops, type ValueNode } from '../algebra/ops.js';
import type { Direction } from '../dsl/fold.js';
import { joinParamPath, type ShapeTree } from '../dsl/params.js';
import type { Shape } from '../dsl/shape.js';
import type { FlowSpec } from '../dsl/spec.js';
import { listOf, recordOf, type DistributionDefinition, type NoiseSpec } from './kinds/definition.js';
import { eventTensorShape } from './kinds/diagonal-normal.js';
import { baseDefinitionOf, type BaseSpec } from './kinds/index.js';
import { distributionSignature, type DistributionSpec, type StandardizedSpec, type TransformedSpec } from './spec.js';

/** Where a node is: its spec path ($.base.flow) and its params path (base.flow). */
export interface DistributionAt {
  readonly path: string;
  readonly paramPath: string;
}

/** The root of a distribution. */
export const rootAt: DistributionAt = { path: '$', paramPath: '' };

/** The node `key` under `at`. */
export const childAt = (at: DistributionAt, key: 'base' | 'flow' | 'events'): DistributionAt => ({ path: `${at.path}.${key}`, paramPath: joinParamPath(at.paramPath, key) });

/** What a fold makes of each node, given what it made of the node's base. */
export interface DistributionFoldTable<R> {
  /** A base distribution, with its kind's definition. */
  readonly base: (spec: BaseSpec, definition: DistributionDefinition<BaseSpec>, at: DistributionAt) => R;
  /** A flow over a base, given the base's result. */
  readonly transformed: (spec: TransformedSpec, base: R, at: DistributionAt) => R;
  /** The frozen standardisation around a distribution, given the inner result. */
  readonly standardized: (spec: StandardizedSpec, base: R, at: DistributionAt) => R;
}

/** The fold of `dist` by `table`, innermost base first. */
export const foldDistribution = <R>(dist: DistributionSpec, table: DistributionFoldTable<R>, at: DistributionAt = rootAt): R => {
  switch (dist.kind) {
    case 'transformed':
      return table.transformed(dist, foldDistribution(dist.base, table, childAt(at, 'base')), at);
    case 'standardized':
      return table.standardized(dist, foldDistribution(dist.base, table, childAt(at, 'base')), at);
    default:
      return table.base(dist, baseDefinitionOf(dist) as DistributionDefinition<BaseSpec>, at);
  }
};

/** The event shapes of a distribution. */
export const eventsOf = (dist: DistributionSpec): readonly Shape[] => distributionSignature(dist).event;

/** The shapes of a standardized distribution's frozen parameters: one `{ location, scale }` per event tensor. */
export const standardizerShapes = (dist: StandardizedSpec): ShapeTree => eventsOf(dist).map((s) => ({ location: eventTensorShape(s), scale: eventTensorShape(s) }));

// ---------------------------------------------------------------------------------------------
// The passes, once for every engine

/** What the passes need of an engine: its algebra, how it reads a params tree `P`, and a flow's pass. */
export interface DistributionEngine<T, P> {
  readonly ops: Ops<T>;
  /** The subtree `key` of a params tree. */
  readonly child: (params: P, key: 'base' | 'flow' | 'events', at: DistributionAt) => P;
  /** A base's (or a standardizer's) parameters, of these shapes, as the engine's values. */
  readonly values: (params: P, shapes: ShapeTree, at: DistributionAt) => ValueNode<T>;
  /** One pass of a flow with its parameters: outputs and the per-sample log-det [N]. */
  readonly flow: (flow: FlowSpec, params: P, dir: Direction, ins: readonly T[], ctx: Context<T>, at: DistributionAt) => { readonly outs: readonly T[]; readonly logDet: T };
}

/** The standardizer's maths: its (location, scale) per event tensor and sum log scale (a scalar). */
const standardizer = <T>(o: Ops<T>, values: ValueNode<T>, n: number): { readonly events: ReadonlyArray<{ readonly location: T; readonly scale: T }>; readonly sumLogScale: T } => {
  const events = listOf(o, values, n, 'a standardized distribution').map((e) => {
    const r = recordOf(o, e, 'a standardized event');
    return { location: param(o, r, 'location'), scale: param(o, r, 'scale') };
  });
  const logs = events.map((e) => o.sumAll(o.log(e.scale)));
  return { events, sumLogScale: logs.slice(1).reduce((acc, l) => o.add(acc, l), logs[0] ?? o.scalar(0)) };
};

const standardizerOf = <T, P>(engine: DistributionEngine<T, P>, spec: StandardizedSpec, params: P, at: DistributionAt) =>
  standardizer(engine.ops, engine.values(engine.child(params, 'events', at), standardizerShapes(spec), childAt(at, 'events')), eventsOf(spec).length);

/** The rows a standardized distribution's base sees: (x - location) / scale, per event tensor. */
export const standardizeOn = <T, P>(engine: DistributionEngine<T, P>, spec: StandardizedSpec, params: P, xs: readonly T[], at: DistributionAt = rootAt): T[] => {
  const o = engine.ops;
  const { events } = standardizerOf(engine, spec, params, at);
  return xs.map((x, i) => o.div(o.sub(x, events[i]?.location as T), events[i]?.scale as T));
};

type LogProbPass<T, P> = (params: P, xs: readonly T[], ctx: Context<T>) => T;

/** log p(xs) per sample [N], on any engine; `start`: where the distribution sits in a larger params tree (for messages). */
export const logProbOn = <T, P>(engine: DistributionEngine<T, P>, dist: DistributionSpec, start: DistributionAt = rootAt): LogProbPass<T, P> => {
  const o = engine.ops;
  return foldDistribution<LogProbPass<T, P>>(
    dist,
    {
      base: (spec, definition, at) => (params, xs) => definition.logProb(o, spec, engine.values(params, definition.params.shapes(spec), at), xs),
      transformed: (spec, base, at) => (params, xs, ctx) => {
        const { outs, logDet } = engine.flow(spec.flow, engine.child(params, 'flow', at), 'forward', xs, ctx, childAt(at, 'flow'));
        return o.add(base(engine.child(params, 'base', at), outs, ctx), logDet);
      },
      standardized: (spec, base, at) => (params, xs, ctx) => {
        const zs = standardizeOn(engine, spec, params, xs, at);
        return o.sub(base(engine.child(params, 'base', at), zs, ctx), standardizerOf(engine, spec, params, at).sumLogScale);
      },
    },
    start,
  );
};

/** Draws and their log p. */
export interface Draws<T> {
  readonly xs: readonly T[];
  readonly logProb: T;
}

type DrawPass<T, P> = (params: P, noise: readonly T[], ctx: Context<T>) => Draws<T>;

/** Draws from the innermost base's noise (see `noiseOf`) and their log p, on any engine; `start` as for `logProbOn`. */
export const drawOn = <T, P>(engine: DistributionEngine<T, P>, dist: DistributionSpec, start: DistributionAt = rootAt): DrawPass<T, P> => {
  const o = engine.ops;
  return foldDistribution<DrawPass<T, P>>(
    dist,
    {
      base: (spec, definition, at) => (params, noise) => {
        const values = engine.values(params, definition.params.shapes(spec), at);
        const xs = definition.fromNoise(o, spec, values, noise);
        return { xs, logProb: definition.logProb(o, spec, values, xs) };
      },
      transformed: (spec, base, at) => (params, noise, ctx) => {
        const z = base(engine.child(params, 'base', at), noise, ctx);
        const { outs, logDet } = engine.flow(spec.flow, engine.child(params, 'flow', at), 'inverse', z.xs, ctx, childAt(at, 'flow'));
        return { xs: outs, logProb: o.sub(z.logProb, logDet) };
      },
      standardized: (spec, base, at) => (params, noise, ctx) => {
        const z = base(engine.child(params, 'base', at), noise, ctx);
        const { events, sumLogScale } = standardizerOf(engine, spec, params, at);
        return { xs: z.xs.map((v, i) => o.add(o.mul(v, events[i]?.scale as T), events[i]?.location as T)), logProb: o.sub(z.logProb, sumLogScale) };
      },
    },
    start,
  );
};

/** The innermost base of a distribution: what draws start from. */
export interface NoiseSource<T> {
  readonly spec: BaseSpec;
  readonly definition: DistributionDefinition<BaseSpec>;
  readonly at: DistributionAt;
  /** The noise tensors a draw takes (shapes are events: a batch axis comes first). */
  readonly noise: readonly NoiseSpec<BaseSpec>[];
  /** The base's parameters as the engine's values (for the noise laws' parameters). */
  readonly values: ValueNode<T>;
}

/** The innermost base of `dist` with its parameters, read from the whole distribution's `params`. */
export const noiseSourceOn = <T, P>(engine: DistributionEngine<T, P>, dist: DistributionSpec, params: P, start: DistributionAt = rootAt): NoiseSource<T> =>
  foldDistribution<(p: P) => NoiseSource<T>>(
    dist,
    {
      base: (spec, definition, at) => (p) => ({ spec, definition, at, noise: definition.noise(spec), values: engine.values(p, definition.params.shapes(spec), at) }),
      transformed: (_spec, base, at) => (p) => base(engine.child(p, 'base', at)),
      standardized: (_spec, base, at) => (p) => base(engine.child(p, 'base', at)),
    },
    start,
  )(params);

/** The noise tensors a draw of `dist` takes (its innermost base's). */
export const noiseOf = (dist: DistributionSpec): readonly NoiseSpec<BaseSpec>[] =>
  foldDistribution<readonly NoiseSpec<BaseSpec>[]>(dist, { base: (spec, definition) => definition.noise(spec), transformed: (_s, base) => base, standardized: (_s, base) => base });
