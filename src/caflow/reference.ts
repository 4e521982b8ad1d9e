/**
 * CAFLOW's maths (src/caflow/maths.ts) on the float64 reference engine: the model's log-likelihood
 * terms and generation computed in float64 from the same definitions, to tell float32's error from a
 * wrong formula (the parity tests compare the tfjs engine with it).
 */
import type * as tf from '@tensorflow/tfjs';
import { paramsToFloat64, toFloat64 } from '../algebra/float64-tfjs.js';
import { float64Ops, isFloat64Tensor, type Float64Tensor, type Float64Value } from '../algebra/float64.js';
import type { ValueNode } from '../algebra/ops.js';
import { algebraRun } from '../interpreters/algebra-run.js';
import { encodeCondition, flowParams, flowSite, fromLatents, likelihoodTerms, type CaflowEngine, type LikelihoodTerms } from './maths.js';
import type { CaflowSpec } from './model.js';
import type { CaflowParams } from './params.js';

const tensor = (v: Float64Value): Float64Tensor => {
  if (!isFloat64Tensor(v)) throw new TypeError('CAFLOW float64 engine: expected a tensor, got a mask');
  return v;
};

/** The float64 engine of CAFLOW's maths for a model and its (float32) parameters, read back exactly. */
export const float64CaflowEngine = (m: CaflowSpec, params: CaflowParams): CaflowEngine<Float64Value> => {
  const trees = new Map<string, ValueNode<Float64Value>>();
  return {
    ops: float64Ops,
    pass: (flow, dir, ins, ctx) => {
      const site = flowSite(m, flow);
      let tree = trees.get(site.paramPath);
      if (tree === undefined) trees.set(site.paramPath, (tree = paramsToFloat64(flowParams(params, flow))));
      return algebraRun(float64Ops, site.spec, tree, ins, ctx, dir);
    },
  };
};

/** CAFLOW's objective terms in float64 for targets W and conditions Y (NHWC tf tensors). */
export const float64LikelihoodTerms = (m: CaflowSpec, params: CaflowParams, w: tf.Tensor4D, y: tf.Tensor4D): LikelihoodTerms<Float64Tensor> => {
  const t = likelihoodTerms(float64CaflowEngine(m, params), m, toFloat64(w), toFloat64(y));
  return { joint: tensor(t.joint), conditional: tensor(t.conditional), logpY: tensor(t.logpY), logDetT: tensor(t.logDetT), priors: t.priors.map(tensor) };
};

/** W generated in float64 from latents z[i][j] (tf tensors) given Y, with its log p(W | Y). */
export const float64FromLatents = (m: CaflowSpec, params: CaflowParams, z: readonly (readonly tf.Tensor4D[])[], y: tf.Tensor4D): { w: Float64Tensor; logp: Float64Tensor } => {
  const e = float64CaflowEngine(m, params);
  const out = fromLatents(e, m, z.map((zi) => zi.map(toFloat64)), encodeCondition(e, m, toFloat64(y)).sqD);
  return { w: tensor(out.w), logp: tensor(out.logp) };
};
