/**
 * CAFLOW's maths (src/caflow/maths.ts) on tfjs: the algebra's tfjs engine, and each flow run by the
 * checked pass interpreter (inputs and parameters checked, the listed overrides such as inv1x1LU's used).
 */
import type * as tf from '@tensorflow/tfjs';
import { tfjsOps } from '../algebra/tfjs.js';
import type { Context } from '../dsl/definition.js';
import type { AnyFlow } from '../dsl/spec.js';
import { forward, inverse } from '../interpreters/transform.js';
import { flowParams, flowSite, type CaflowEngine } from './maths.js';
import type { CaflowSpec } from './model.js';
import type { CaflowParams } from './params.js';

/** The tfjs engine of CAFLOW's maths for a model and its parameters. Not tidied: callers tidy. */
export const tfjsCaflowEngine = (m: CaflowSpec, params: CaflowParams): CaflowEngine<tf.Tensor> => ({
  ops: tfjsOps,
  pass: (flow, dir, ins, ctx) => {
    const spec = flowSite(m, flow).spec as AnyFlow;
    const own = flowParams(params, flow);
    if (dir === 'forward') {
      const r = forward(spec, own)(ins as tf.Tensor[], ctx as Context);
      return { outs: r.ys as readonly tf.Tensor[], logDet: r.logDet };
    }
    const r = inverse(spec, own)(ins as tf.Tensor[], ctx as Context);
    return { outs: r.xs as readonly tf.Tensor[], logDet: r.logDet };
  },
});
