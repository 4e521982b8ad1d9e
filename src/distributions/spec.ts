/**
 * Distributions as values: plain, frozen, JSON-serialisable specs, like flows. `Distribution<E, C>`
 * carries the event shapes (one per tensor, channels first, as a flow's `In`/`Out`) and the
 * conditioning (as a flow's `Cond`) in a phantom field that never exists at run time.
 *
 * Direction convention: a flow maps data to noise (its forward pass is the normalising direction,
 * as everywhere in this library). So `transformed(base, flow)` is the distribution of x = flow^-1(z)
 * with z ~ base:
 *
 *   log p(x) = log p_base(flow(x)) + log|det d flow(x) / dx|      (one forward pass)
 *   sample:    z ~ base, x = flow^-1(z)                          (one inverse pass)
 *
 * Its event shapes are the flow's inputs, the base's must equal the flow's outputs, and its
 * conditioning is the flow's (plus the base's when the base is itself conditional): a conditional
 * flow makes a conditional distribution, whose passes take the context by name.
 */
import { SpecError } from '../dsl/errors.js';
import { deepFreeze } from '../dsl/freeze.js';
import { formatShape, isShape, sameShape, type CondShapes, type NoCond, type Shape, type Shapes } from '../dsl/shape.js';
import { signature } from '../dsl/signature.js';
import type { Flow, FlowSpec } from '../dsl/spec.js';
import { baseDefinitionOf, baseKinds, isBaseKind, type BaseSpec } from './kinds/index.js';

export type { StandardNormalSpec, DiagonalNormalSpec, GaussianMixtureSpec, StudentTSpec, BaseSpec } from './kinds/index.js';

/** x = flow^-1(z), z ~ base (see the file comment). */
export interface TransformedSpec {
  readonly kind: 'transformed';
  readonly base: DistributionSpec;
  readonly flow: FlowSpec;
}

/**
 * x = location + scale * z with z ~ base, per element of each event tensor: the data's own units
 * around a base fitted in standard deviations. `location` and `scale` are frozen parameters (never
 * trained, saved with the model) that `initDistribution` with data sets to the rows' mean and std, so
 * log p(x) = log p_base((x - location) / scale) - sum log scale stays a density of the data.
 */
export interface StandardizedSpec {
  readonly kind: 'standardized';
  readonly base: DistributionSpec;
}

/** The JSON spec of a distribution: the union of every distribution kind's spec. */
export type DistributionSpec = BaseSpec | TransformedSpec | StandardizedSpec;
/** The name of a distribution kind (`standardNormal`, `gaussianMixture`, `transformed`, ...). */
export type DistributionKind = DistributionSpec['kind'];

declare const distributionTypes: unique symbol;

/**
 * A distribution whose event shapes and conditioning are known to the compiler. The phantom field
 * is never present at run time: a Distribution is just its spec.
 */
export type Distribution<E extends Shapes, C extends CondShapes = NoCond> = DistributionSpec & {
  readonly [distributionTypes]?: { readonly event: E; readonly cond: C };
};

/** A distribution with its event and conditioning shapes erased (checked at run time instead). */
export type AnyDistribution = Distribution<Shapes, CondShapes>;

// Wrapped in [] so the spec union inside Distribution does not distribute.
/** The event shapes of a distribution type (one per tensor, channels first). */
export type EventOf<D> = [D] extends [Distribution<infer E, CondShapes>] ? E : never;
/** The conditioning shapes of a distribution type (`{ name: shape }`). */
export type DistCondOf<D> = [D] extends [Distribution<Shapes, infer C>] ? C : never;

/** The event shapes and conditioning of a distribution, checked at run time. */
export interface DistributionSignature {
  readonly event: readonly Shape[];
  readonly cond: CondShapes;
}

const checkShapes = (shapes: readonly unknown[], what: string): void => {
  if (shapes.length === 0) throw new SpecError([{ path: '$.shapes', message: `${what}: expected at least one event shape` }]);
  shapes.forEach((s, i) => {
    if (!isShape(s)) throw new SpecError([{ path: `$.shapes[${i}]`, message: `${what}: expected an event shape of positive integers, got ${JSON.stringify(s)}` }]);
  });
};

/** The message for a `kind` that names no distribution kind. */
export const unknownKindMessage = (kind: unknown): string => `unknown distribution kind ${JSON.stringify(kind)}; expected ${[...baseKinds, 'transformed'].join(', ')} or standardized`;

/** Event shapes and conditioning of `dist`; throws a SpecError naming the path of a bad node. */
export const distributionSignature = (dist: DistributionSpec, path = '$'): DistributionSignature => {
  switch (dist.kind) {
    case 'transformed': {
      const base = distributionSignature(dist.base, `${path}.base`);
      let flow;
      try {
        flow = signature(dist.flow);
      } catch (e) {
        if (e instanceof SpecError) throw new SpecError(e.issues.map((i) => ({ ...i, path: i.path.replace(/^\$/, `${path}.flow`) })));
        throw e;
      }
      const fits = base.event.length === flow.outs.length && base.event.every((s, i) => sameShape(s, flow.outs[i] ?? []));
      if (!fits) {
        throw new SpecError([
          {
            path: `${path}.base`,
            message: `the base distribution has event shape(s) ${base.event.map(formatShape).join(', ')} but the flow's outputs are ${flow.outs.map(formatShape).join(', ')}`,
          },
        ]);
      }
      for (const [name, s] of Object.entries(base.cond)) {
        const other = Object.hasOwn(flow.cond, name) ? flow.cond[name] : undefined;
        if (other !== undefined && !sameShape(other, s)) {
          throw new SpecError([{ path, message: `conditioning '${name}' is used with two shapes: ${formatShape(other)} and ${formatShape(s)}` }]);
        }
      }
      return { event: flow.ins, cond: { ...base.cond, ...flow.cond } };
    }
    case 'standardized':
      return distributionSignature(dist.base, `${path}.base`);
    default:
      if (!isBaseKind((dist as { kind?: unknown }).kind)) throw new SpecError([{ path: `${path}.kind`, message: unknownKindMessage((dist as { kind?: unknown }).kind) }]);
      return { event: baseDefinitionOf(dist).events(dist, path), cond: {} };
  }
};

const built = <E extends Shapes, C extends CondShapes>(spec: DistributionSpec): Distribution<E, C> => {
  deepFreeze(spec);
  distributionSignature(spec);
  return spec as Distribution<E, C>;
};

/** N(0, I) over one event of shape `shape` (channels first: [D] or [C,H,W]). */
export const standardNormal = <const S extends Shape>(shape: S): Distribution<readonly [S]> => {
  checkShapes([shape], 'standardNormal');
  return built({ kind: 'standardNormal', shapes: [shape] });
};

/** N(0, I) over several event tensors at once (e.g. the base of a multiscale flow with several outputs). */
export const standardNormals = <const S extends Shapes>(shapes: S): Distribution<S> => {
  checkShapes(shapes, 'standardNormals');
  return built({ kind: 'standardNormal', shapes: [...shapes] });
};

/** N(mean, diag(std^2)) over one event, mean and log std learnt per element (initialised 0, 0). */
export const diagonalNormal = <const S extends Shape>(shape: S): Distribution<readonly [S]> => {
  checkShapes([shape], 'diagonalNormal');
  return built({ kind: 'diagonalNormal', shapes: [shape] });
};

/** A learnt diagonal normal over several event tensors. */
export const diagonalNormals = <const S extends Shapes>(shapes: S): Distribution<S> => {
  checkShapes(shapes, 'diagonalNormals');
  return built({ kind: 'diagonalNormal', shapes: [...shapes] });
};

/** A learnt mixture of `components` full-covariance Gaussians over vectors [D] (see GaussianMixtureSpec). */
export const gaussianMixture = <const D extends number>(shape: readonly [D], components: number): Distribution<readonly [readonly [D]]> =>
  built({ kind: 'gaussianMixture', shape: [shape[0]], components });

/** Independent Student-t's with learnt location, scale and degrees of freedom per dimension, over vectors [D]. */
export const studentT = <const D extends number>(shape: readonly [D]): Distribution<readonly [readonly [D]]> => built({ kind: 'studentT', shape: [shape[0]] });

/**
 * The distribution of x = flow^-1(z), z ~ base: its events are the flow's inputs and its
 * conditioning the flow's (a conditional flow gives a conditional distribution). The base's event
 * shapes must be the flow's outputs (a compile error for literal shapes, a SpecError at run time).
 */
export const transformed = <I extends Shapes, O extends Shapes, C extends CondShapes, BC extends CondShapes = NoCond>(
  base: Distribution<O, BC>,
  flow: Flow<I, O, C>,
): Distribution<I, [keyof BC] extends [never] ? C : BC & C> => built({ kind: 'transformed', base, flow });

/**
 * `dist` seen in standard deviations of the data: x = location + scale * z, z ~ dist, per element,
 * with `location` and `scale` frozen parameters set from the data at initialisation (see
 * StandardizedSpec). Same events and conditioning as `dist`.
 */
export const standardized = <E extends Shapes, C extends CondShapes>(dist: Distribution<E, C>): Distribution<E, C> => built({ kind: 'standardized', base: dist });

/** The flows inside a distribution (outermost first). */
export const flowsOf = (dist: DistributionSpec): FlowSpec[] =>
  dist.kind === 'transformed' ? [dist.flow, ...flowsOf(dist.base)] : dist.kind === 'standardized' ? flowsOf(dist.base) : [];

/** The distribution with each flow inside it replaced by `f(flow)` (its parameters still fit when `f` keeps parameter shapes). */
export const mapFlows = <D extends DistributionSpec>(dist: D, f: (flow: FlowSpec) => FlowSpec): D => {
  const mapped: DistributionSpec =
    dist.kind === 'transformed' ? { ...dist, base: mapFlows(dist.base, f), flow: f(dist.flow) } : dist.kind === 'standardized' ? { ...dist, base: mapFlows(dist.base, f) } : dist;
  return mapped as D;
};
