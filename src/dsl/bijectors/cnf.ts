/**
 * A continuous normalizing flow (Chen et al. 2018; FFJORD, Grathwohl et al. 2019) on vectors [D]:
 * the solution map of dx/dt = v(x, t, c) from t = 0 to t = 1, v an MLP with a time embedding
 * (src/dsl/maths/vector-field.ts). Forward (data -> noise) integrates 0 -> 1, the inverse 1 -> 0, with
 * the same fixed-step solver (src/dsl/maths/ode.ts); by the instantaneous change of variables
 *   log|det dx(1)/dx(0)| = integral_0^1 tr(dv/dx)(x(t), t) dt,
 * integrated alongside x, with the exact trace, or (`trace: { kind: 'hutchinson', probe, seed }`) its
 * Hutchinson estimate e^T (dv/dx) e along one probe e drawn from the seed (see `hutchinsonProbe`). The inverse of the discretised forward is the
 * discretised backward solve up to the solver's error (O(h^4) for RK4), so round trips hold to that,
 * not to float32 rounding. Trained by maximum likelihood through the solver, or by flow matching
 * (src/distributions/flow-matching.ts), which only needs v.
 * Domain and image: all of R^D. Conditioning: named context vectors fed to v's first layer.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { algebraic } from '../../algebra/define.js';
import type { Context, Ops } from '../../algebra/ops.js';
import { primitive } from '../primitive.js';
import { CondCodec, listOf, nodeCodec, num, oneOf, shapeCodec, strictObject, tag, taggedUnion } from '../codec-parts.js';
import { checkShape, defineBijector, singleTensor, ontoReals, type BijectorDefinition } from '../definition.js';
import type { SpecIssue } from '../errors.js';
import { checkCond, conditioningChannels, conditioningValues } from '../maths/conditioning.js';
import { adaptiveEvaluations, EVALUATIONS_PER_STEP, integrate, integrateAdaptive } from '../maths/ode.js';
import { field, fieldActivations, fieldParamShapes, hutchinsonProbe, initField, probeKinds, type FieldActivation, type ProbeKind } from '../maths/vector-field.js';
import { isDim, type CondShapes, type NoCond, type Shape1 } from '../shape.js';
import { mapPrimitives } from '../map-primitives.js';
import { seededRandom } from '../random.js';
import type { Bijector, FlowSpec, PrimitiveSpec } from '../spec.js';

const SolverCodec = taggedUnion('a solver', {
  euler: strictObject("an 'euler' solver {kind, steps}", { kind: tag('euler'), steps: num }),
  rk4: strictObject("an 'rk4' solver {kind, steps}", { kind: tag('rk4'), steps: num }),
  dopri5: strictObject("a 'dopri5' solver {kind, rtol, atol, maxSteps}", { kind: tag('dopri5'), rtol: num, atol: num, maxSteps: num }),
});
/** How a cnf integrates: fixed steps (Euler, RK4) or adaptive Dormand-Prince 5(4). */
export type SolverSpec = t.TypeOf<typeof SolverCodec>;

const TraceCodec = taggedUnion('a trace', {
  exact: strictObject("an 'exact' trace {kind}", { kind: tag('exact') }),
  hutchinson: strictObject("a 'hutchinson' trace {kind, probe, seed}", { kind: tag('hutchinson'), probe: oneOf<ProbeKind>('a probe distribution', probeKinds), seed: num }),
});
/** How a cnf's divergence is computed: exact (the default), or Hutchinson's estimate along one seeded probe. */
export type TraceSpec = t.TypeOf<typeof TraceCodec>;

const codec = nodeCodec('cnf', {
  shape: shapeCodec([1]),
  cond: CondCodec,
  hidden: listOf('a list of hidden widths [h0,h1,...]', num),
  activation: oneOf<FieldActivation>('a smooth activation', fieldActivations),
  frequencies: num,
  solver: SolverCodec,
}, { trace: TraceCodec });
/** The JSON spec of a `cnf` node: vector event shape, conditioning, vector field (hidden widths, activation, time frequencies) and solver. */
export type CnfSpec = t.TypeOf<typeof codec>;

/** Options of `cnf`. */
export interface CnfOptions<C extends CondShapes> {
  /** Hidden widths of the vector field (default [64, 64]). */
  readonly hidden?: readonly number[];
  /** 'tanh' (default) or 'softplus'. */
  readonly activation?: FieldActivation;
  /** Time frequencies F (default 4: an embedding of 8 features). */
  readonly frequencies?: number;
  /** The solver (default { kind: 'rk4', steps: 16 }). */
  readonly solver?: SolverSpec;
  /** Context vectors {name: [K]} the field sees. */
  readonly cond?: C;
  /** The divergence: exact (default) or a Hutchinson estimate (a field left out of the spec when exact). */
  readonly trace?: TraceSpec;
}

/** A continuous flow on [D]; data -> noise is the solve from t = 0 to 1. */
export const cnf = <const S extends Shape1, const C extends CondShapes = NoCond>(shape: S, options: CnfOptions<C> = {}): Bijector<S, S, C> =>
  primitive(cnfDefinition, {
    kind: 'cnf',
    shape,
    cond: options.cond ?? {},
    hidden: options.hidden ?? [64, 64],
    activation: options.activation ?? 'tanh',
    frequencies: options.frequencies ?? 4,
    solver: options.solver ?? { kind: 'rk4', steps: 16 },
    ...(options.trace === undefined || options.trace.kind === 'exact' ? {} : { trace: options.trace }),
  });

/** Evaluations of the vector field in one pass (either direction; for an adaptive solver, at most). */
export const cnfEvaluations = (spec: CnfSpec): number =>
  spec.solver.kind === 'dopri5' ? adaptiveEvaluations(spec.solver.maxSteps) : spec.solver.steps * EVALUATIONS_PER_STEP[spec.solver.kind];

/** The context vectors of the spec's conditioning, concatenated in spec order (undefined without any). */
export const cnfContext = <T>(o: Ops<T>, cond: CondShapes, ctx: Context<T>): T | undefined =>
  Object.keys(cond).length === 0 ? undefined : o.concatLast(conditioningValues(cond, ctx));

const solverChecks = (solver: SolverSpec, path: string): SpecIssue[] => {
  if (solver.kind !== 'dopri5') return isDim(solver.steps) ? [] : [{ path: `${path}.steps`, message: `expected a positive integer number of steps, got ${solver.steps}` }];
  return [
    // Below ~1e-7 a float32 solve cannot meet the tolerance and every step is rejected.
    ...(solver.rtol >= 1e-7 && solver.rtol < 1 ? [] : [{ path: `${path}.rtol`, message: `expected 1e-7 <= rtol < 1 (float32 cannot meet tighter), got ${solver.rtol}` }]),
    ...(solver.atol >= 1e-9 && solver.atol < 1 ? [] : [{ path: `${path}.atol`, message: `expected 1e-9 <= atol < 1, got ${solver.atol}` }]),
    ...(isDim(solver.maxSteps) && solver.maxSteps <= 10_000 ? [] : [{ path: `${path}.maxSteps`, message: `expected a positive integer up to 10000, got ${solver.maxSteps}` }]),
  ];
};

const fieldChecks = (spec: CnfSpec, path: string): SpecIssue[] => [
  ...(spec.hidden.length >= 1 && spec.hidden.every(isDim) ? [] : [{ path: `${path}.hidden`, message: `expected at least one positive integer width, got ${JSON.stringify(spec.hidden)}` }]),
  ...(Number.isInteger(spec.frequencies) && spec.frequencies >= 1 && spec.frequencies <= 64 ? [] : [{ path: `${path}.frequencies`, message: `expected an integer from 1 to 64, got ${spec.frequencies}` }]),
  ...solverChecks(spec.solver, `${path}.solver`),
  ...(spec.trace?.kind !== 'hutchinson' || (Number.isInteger(spec.trace.seed) && spec.trace.seed >= 0 && spec.trace.seed < 2 ** 32)
    ? []
    : [{ path: `${path}.trace.seed`, message: `expected an integer seed from 0 to 2^32 - 1, got ${spec.trace.seed}` }]),
];

/** Whether a layer is a cnf whose log-det is an estimate (a Hutchinson trace) rather than exact up to its solver. */
export const estimatesLogDet = (layer: PrimitiveSpec): layer is CnfSpec & { readonly trace: TraceSpec & { readonly kind: 'hutchinson' } } =>
  layer.kind === 'cnf' && (layer as CnfSpec).trace?.kind === 'hutchinson';

/**
 * The flow with each Hutchinson cnf's probe seed replaced by one drawn from `seed` (in layer order):
 * what `fit` trains with at each step, so that the steps see independent probes and the gradient of
 * the estimated likelihood is unbiased over them. The flow itself when it has no such layer.
 */
export const withProbeSeeds = (spec: FlowSpec, seed: number): FlowSpec => {
  const random = seededRandom(seed);
  return mapPrimitives(spec, (layer) => (estimatesLogDet(layer) ? ({ ...layer, trace: { ...layer.trace, seed: Math.floor(random() * 2 ** 32) } } as PrimitiveSpec) : layer));
};

/**
 * The flow with each exact cnf given a Hutchinson trace (Rademacher, seed 0; same parameters): the same
 * x in either direction (the probe only enters the log-det) at O(N H^2) per field evaluation instead
 * of O(N D H^2). For sampling where only the draws are wanted (`typed-flows sample --model`).
 */
export const withHutchinsonTraces = (spec: FlowSpec): FlowSpec =>
  mapPrimitives(spec, (layer) => (layer.kind === 'cnf' && !estimatesLogDet(layer) ? ({ ...layer, trace: { kind: 'hutchinson', probe: 'rademacher', seed: 0 } } as PrimitiveSpec) : layer));

/** The flow with each Hutchinson cnf given the exact trace (same parameters): the log-det an estimate is compared with. */
export const withExactTraces = (spec: FlowSpec): FlowSpec =>
  mapPrimitives(spec, (layer) => {
    if (!estimatesLogDet(layer)) return layer;
    const { trace: _estimate, ...exact } = layer;
    return exact as PrimitiveSpec;
  });

/** One solve: from t0 to t1, x and the integral of the divergence along the way. */
const solve =
  (t0: number, t1: number) =>
  <T>(o: Ops<T>, spec: CnfSpec, params: Parameters<typeof field<T>>[2], xs: readonly T[], ctx: Context<T>) => {
    const x0 = xs[0];
    if (x0 === undefined) throw new TypeError('expected one input tensor');
    const d = spec.shape[0] as number;
    const context = cnfContext(o, spec.cond, ctx);
    // One probe for the whole solve (both directions draw the same one from the seed), shared by the batch.
    const trace = spec.trace;
    const divergence = trace?.kind === 'hutchinson' ? { probe: o.constant(hutchinsonProbe(trace.probe, trace.seed, d), [1, d]) } : true;
    const dynamics = (xt: T, t: T) => {
      const f = field(o, spec, params, d, xt, t, context, divergence);
      return { velocity: f.velocity, rate: f.divergence as T };
    };
    const l0 = o.perSample(x0, o.scalar(0));
    const solver = spec.solver;
    const { x, l } =
      solver.kind === 'dopri5'
        ? integrateAdaptive(o, solver, d, t0, t1, x0, l0, dynamics)
        : integrate(o, solver.kind, solver.steps, t0, t1, x0, l0, dynamics);
    return { outs: [x], logDet: l };
  };

/** The `cnf` kind: the vector field's MLP parameters and the ODE solve with its exact-trace log-det. */
export const cnfDefinition: BijectorDefinition<CnfSpec> = defineBijector<CnfSpec>({
  kind: 'cnf',
  codec,
  ranks: [1],
  signature: (spec, path) => {
    const shapeIssues = checkShape(spec.shape, `${path}.shape`, [1]);
    if (shapeIssues.length > 0) return E.left(shapeIssues);
    const issues = [...checkCond(spec.cond, spec.shape, path), ...fieldChecks(spec, path)];
    return issues.length > 0 ? E.left(issues) : singleTensor(spec.shape, spec.shape, spec.cond);
  },
  domain: ontoReals,
  params: {
    shapes: (spec) => fieldParamShapes(spec, spec.shape[0] as number, conditioningChannels(spec.cond)),
    init: (spec, { nextSeed }) => initField(spec, spec.shape[0] as number, conditioningChannels(spec.cond), nextSeed),
    frozen: [],
    mixing: ['kernel'],
  },
  ...algebraic<CnfSpec>({ forward: solve(0, 1), inverse: solve(1, 0) }),
  inverseCost: 'analytic',
  evaluations: cnfEvaluations,
});
