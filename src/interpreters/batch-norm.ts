/**
 * Training mode for `batchNorm` (src/dsl/bijectors/batch-norm.ts): the forward pass (data -> noise)
 * in which every batchNorm running forward normalises with its input batch's own statistics
 * (differentiable, so a loss's gradient flows through them), and the params with each such layer's
 * running statistics moved towards the batch's: running <- (1 - momentum) running + momentum batch.
 * Every other node runs its own maths, as in `forward`. A batchNorm running in the inverse direction
 * (inside `invert`) uses its running statistics and is left unchanged.
 *
 *   const { logDet, ys, params: next } = batchNormTraining(flow, params)(x);   // loss from ys, logDet
 *   // after the optimiser step, carry next's running statistics over (they are frozen: not trained)
 */
import * as tf from '@tensorflow/tfjs';
import { channelMoments } from '../dsl/bijectors/batch-norm.js';
import type { Context } from '../dsl/definition.js';
import { fold, type FoldTable } from '../dsl/fold.js';
import { sumLogDets } from '../dsl/maths/common.js';
import type { ParamRecord, ParamTree } from '../dsl/params.js';
import { definitionOf } from '../dsl/registry.js';
import { signature } from '../dsl/signature.js';
import type { FlowSpec } from '../dsl/spec.js';
import { checkParams } from './param-shapes.js';
import { checkInputs } from './transform.js';

interface Result {
  readonly logDet: tf.Tensor1D;
  readonly params: ParamTree;
}

const table = (ctx: Context, batch: number): FoldTable<tf.Tensor, Result> => ({
  primitive: (spec, node) => {
    const definition = definitionOf(spec);
    const params = node.params as ParamRecord;
    const ins = node.ins ?? [];
    if (spec.kind === 'batchNorm' && node.dir === 'forward') {
      const { mean, variance } = channelMoments(ins[0] as tf.Tensor);
      const { outs, logDet } = definition.forward(spec, { ...params, mean, variance }, ins, ctx);
      const move = (running: ParamTree | undefined, now: tf.Tensor): tf.Tensor =>
        tf.add(tf.mul(running as tf.Tensor, 1 - spec.momentum), tf.mul(now, spec.momentum));
      return { outs, result: { logDet, params: { ...params, mean: move(params['mean'], mean), variance: move(params['variance'], variance) } } };
    }
    const maths = node.dir === 'forward' ? definition.forward : definition.inverse;
    const { outs, logDet } = maths(spec, params, ins, ctx);
    return { outs, result: { logDet, params } };
  },
  sequence: (children, node) => ({
    logDet: sumLogDets((node.dir === 'inverse' ? [...children].reverse() : children).map((c) => c.logDet), batch),
    params: children.map((c) => c.params),
  }),
  parallel: (branches) => ({ logDet: sumLogDets(branches.map((b) => b.logDet), batch), params: branches.map((b) => b.params) }),
  invert: (body) => body,
});

/** What the training-mode forward pass returns: outputs, log-dets with batch statistics and the updated running statistics. */
export interface TrainingForwardResult {
  /** Every output tensor (batch first, channels last). */
  readonly ys: readonly tf.Tensor[];
  /** log|det dy/dx| per sample, with the batch statistics. */
  readonly logDet: tf.Tensor1D;
  /** `params` with every forward batchNorm's running statistics updated (other tensors are the same objects). */
  readonly params: ParamTree;
}

/** The training-mode forward pass of `flow` (batch statistics in every batchNorm); see the module comment. */
export const batchNormTraining = (flow: FlowSpec, params: ParamTree) => {
  const sig = signature(flow);
  checkParams(flow, params);
  return (input: tf.Tensor | readonly tf.Tensor[], ctx: Context = {}): TrainingForwardResult => {
    const xs = input instanceof tf.Tensor ? [input] : [...input];
    checkInputs(xs, sig.ins, 'forward');
    return tf.tidy(() => {
      const step = fold(flow, table(ctx, xs[0]?.shape[0] ?? 0), { ins: xs, params });
      return { ys: [...(step.outs ?? [])], logDet: step.result.logDet, params: step.result.params } as unknown as tf.TensorContainer;
    }) as unknown as TrainingForwardResult;
  };
};
