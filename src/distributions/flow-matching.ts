/**
 * Flow matching (Lipman et al. 2023; rectified flow, Liu et al. 2023; minibatch-OT pairing, Tong et al.
 * 2023) for a distribution whose flow ends in a `cnf` over a standard normal base: it trains the cnf's
 * vector field without solving an ODE. With x0 the data as the cnf sees it (after the layers before it,
 * which this objective does not train), z ~ N(0, I) and t ~ U(0, 1) per row, the path
 *   x_t = (1 - t) x0 + t z   has velocity   u = z - x0,
 * and the loss is the mean over rows and coordinates of |v(x_t, t, c) - u|^2. Its minimiser is the
 * field whose flow carries the data to N(0, I) (the cnf's forward: data -> noise, t = 0 -> 1), so after
 * training `logProb` (exact up to the solver) and `sample` work as for a likelihood-trained flow.
 * Pairing 'ot' re-pairs each minibatch's noise rows with its data rows by the optimal assignment of
 * squared distances (src/distributions/assignment.ts), which straightens the paths.
 */
import * as tf from '@tensorflow/tfjs';
import { tfjsOps } from '../algebra/tfjs.js';
import type { CnfSpec } from '../dsl/bijectors/cnf.js';
import { cnfContext } from '../dsl/bijectors/cnf.js';
import type { Context } from '../dsl/definition.js';
import { field } from '../dsl/maths/vector-field.js';
import type { ParamRecord, ParamTree } from '../dsl/params.js';
import type { FlowSpec } from '../dsl/spec.js';
import { chainOf } from '../dsl/combinators.js';
import { paramInfo } from '../interpreters/param-shapes.js';
import { seededNormal } from '../interpreters/seeded-normal.js';
import { run } from '../interpreters/transform.js';
import { optimalAssignment } from './assignment.js';
import { standardizedRows } from './interpret.js';
import type { DistributionSpec } from './spec.js';

/** How noise rows are paired with data rows in a minibatch. */
export type Pairing = 'independent' | 'ot';

/** Where the cnf sits: the flow before it (undefined if none) and how to find both's parameters. */
interface Plan {
  readonly cnf: CnfSpec;
  readonly before: FlowSpec | undefined;
  readonly cnfParams: (flowParams: ParamTree) => ParamRecord;
  readonly beforeParams: (flowParams: ParamTree) => ParamTree;
}

/** A standardized distribution's inner one, its parameters, and its rows as the inner one sees them. */
const unwrapped = (dist: DistributionSpec, params: ParamTree, xs: readonly tf.Tensor[]): { dist: DistributionSpec; params: ParamTree; xs: readonly tf.Tensor[] } =>
  dist.kind === 'standardized' ? { dist: dist.base, params: (params as ParamRecord)['base'] as ParamTree, xs: standardizedRows(dist, params, xs) } : { dist, params, xs };

/** Why flow matching cannot train this distribution, or its plan. A standardized wrapper is looked through. */
export const flowMatchingPlan = (outer: DistributionSpec): Plan => {
  const dist = outer.kind === 'standardized' ? outer.base : outer;
  const refuse = (why: string): never => {
    throw new TypeError(`flow matching trains a distribution transformed(standardNormal([D]), flow) whose flow is a cnf or a chain ending in one: ${why}`);
  };
  if (dist.kind !== 'transformed') return refuse(`this is a '${dist.kind}' distribution`);
  if (dist.base.kind !== 'standardNormal' || dist.base.shapes.length !== 1) return refuse('its base is not one standard normal');
  const flow = dist.flow;
  if (flow.kind === 'cnf') return { cnf: flow, before: undefined, cnfParams: (p) => p as ParamRecord, beforeParams: () => [] };
  if (flow.kind !== 'chain') return refuse(`its flow is a '${flow.kind}'`);
  const last = flow.steps[flow.steps.length - 1];
  if (last === undefined || last.kind !== 'cnf') return refuse(`the chain's last step is a '${last?.kind ?? 'nothing'}', not a cnf`);
  const k = flow.steps.length - 1;
  if (k === 0) return { cnf: last, before: undefined, cnfParams: (p) => (p as readonly ParamTree[])[0] as ParamRecord, beforeParams: () => [] };
  const before = chainOf(flow.steps.slice(0, -1));
  const trainable = paramInfo(before).filter((p) => p.trainable);
  if (trainable.length > 0) refuse(`the layers before the cnf have trainable parameters (${trainable.map((p) => p.path).slice(0, 3).join(', ')}${trainable.length > 3 ? ', ...' : ''}), which this objective does not train; fit those by likelihood`);
  return {
    cnf: last,
    before,
    cnfParams: (p) => (p as readonly ParamTree[])[k] as ParamRecord,
    beforeParams: (p) => (p as readonly ParamTree[]).slice(0, k),
  };
};

/** The minibatch's noise rows re-ordered so that row i goes with data row i in the optimal pairing. */
const pairedNoise = (x0: tf.Tensor, z: tf.Tensor): tf.Tensor => {
  const n = x0.shape[0] as number;
  const cost = tf.tidy(() => {
    // |x_i - z_j|^2 = |x_i|^2 + |z_j|^2 - 2 x_i . z_j
    const xx = tf.sum(tf.square(x0), 1, true);
    const zz = tf.sum(tf.square(z), 1, true);
    return tf.sub(tf.add(xx, tf.transpose(zz)), tf.mul(2, tf.matMul(x0, z, false, true)));
  });
  const order = optimalAssignment(Float64Array.from(cost.dataSync()), n);
  cost.dispose();
  return tf.gather(z, tf.tensor1d(order, 'int32'));
};

/**
 * The flow-matching loss of a minibatch (not tidied: for use inside a loss). `nextSeed` draws the
 * noise and times, so a seeded stream makes the run reproducible.
 */
export const flowMatchingLoss = (outer: DistributionSpec, outerParams: ParamTree, rows: readonly tf.Tensor[], ctx: Context, nextSeed: () => number, pairing: Pairing = 'independent'): tf.Scalar => {
  const plan = flowMatchingPlan(outer);
  const { params, xs } = unwrapped(outer, outerParams, rows);
  const flowParams = (params as ParamRecord)['flow'] as ParamTree;
  const x = xs[0];
  if (x === undefined) throw new TypeError('flow matching: expected one event tensor');
  const x0 = plan.before === undefined ? x : (run(plan.before, plan.beforeParams(flowParams), [x], ctx, 'forward').outs[0] as tf.Tensor);
  const [n, d] = x0.shape as [number, number];
  const noise = seededNormal([n, d], 1, nextSeed());
  const z = pairing === 'ot' ? pairedNoise(x0, noise) : noise;
  const t = tf.randomUniform([n, 1], 0, 1, 'float32', nextSeed());
  const xt = tf.add(tf.mul(tf.sub(1, t), x0), tf.mul(t, z));
  const { velocity } = field(tfjsOps, plan.cnf, plan.cnfParams(flowParams), d, xt, t, cnfContext(tfjsOps, plan.cnf.cond, ctx), false);
  return tf.mean(tf.square(tf.sub(velocity, tf.sub(z, x0))));
};
