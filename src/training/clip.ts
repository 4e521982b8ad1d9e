/**
 * Gradient-norm clipping (CAFLOW clips the global norm at 1). Gradients come either as a tree that
 * mirrors the params (possibly only its trainable leaves) or as a map from dotted param path to
 * tensor, which is what `trainStep` uses internally since frozen parameters have no gradient.
 * Every function here is pure: it returns new tensors and never disposes its inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { flattenParams, mapParams, type ParamTree } from '../interpreters/params.js';

/** Gradients keyed like the params: a (partial) mirror tree, or a map from dotted path to tensor. */
export type Gradients = ParamTree | ReadonlyMap<string, tf.Tensor>;

const isMap = (g: Gradients): g is ReadonlyMap<string, tf.Tensor> => g instanceof Map;

/** The gradients as a map from dotted path (as `flattenParams` spells it) to tensor. */
export const gradientMap = (grads: Gradients): ReadonlyMap<string, tf.Tensor> =>
  isMap(grads) ? grads : new Map(flattenParams(grads));

const leaves = (grads: Gradients): tf.Tensor[] => (isMap(grads) ? [...grads.values()] : flattenParams(grads).map(([, t]) => t));

/**
 * sqrt(sum of squares of every element of every gradient), as a scalar tensor (0 for no gradients).
 * A NaN anywhere gives NaN; an overflow of the float32 sum of squares gives Infinity.
 */
export const globalNorm = (grads: Gradients): tf.Scalar =>
  tf.tidy((): tf.Scalar => {
    const sums = leaves(grads).map((g): tf.Scalar => tf.sum(tf.square(g)));
    return sums.length === 0 ? tf.scalar(0) : tf.sqrt(sums.reduce((a, b) => tf.add(a, b)));
  });

export interface Clipped<G> {
  /** The gradients times maxNorm / max(norm, maxNorm): unchanged in direction, norm <= maxNorm. */
  readonly grads: G;
  /** The global norm before clipping. */
  readonly norm: tf.Scalar;
}

/**
 * Scales all gradients by maxNorm / max(norm, maxNorm), so the clipped global norm is
 * min(norm, maxNorm). `maxNorm` = Infinity leaves them unchanged (but still returns copies, so the
 * caller owns every returned tensor). Returns the same kind of container as given, plus the norm
 * before clipping; all returned tensors are new and owned by the caller.
 */
export function clipByGlobalNorm(grads: ReadonlyMap<string, tf.Tensor>, maxNorm: number): Clipped<Map<string, tf.Tensor>>;
export function clipByGlobalNorm(grads: ParamTree, maxNorm: number): Clipped<ParamTree>;
export function clipByGlobalNorm(grads: Gradients, maxNorm: number): Clipped<Map<string, tf.Tensor> | ParamTree> {
  if (!(maxNorm > 0)) throw new RangeError(`clipByGlobalNorm: maxNorm must be positive, got ${maxNorm}`);
  const entries = [...gradientMap(grads)];
  const [norm, ...scaled] = tf.tidy(() => {
    const n = globalNorm(grads);
    const scale = maxNorm === Infinity ? tf.scalar(1) : tf.div(maxNorm, tf.maximum(n, maxNorm));
    return [n, ...entries.map(([, g]) => tf.mul(g, scale))];
  });
  const byPath = new Map(entries.map(([path], i) => [path, scaled[i] as tf.Tensor]));
  const out = isMap(grads) ? byPath : mapParams(grads, (_, path) => byPath.get(path) as tf.Tensor);
  return { grads: out, norm: norm as tf.Scalar };
}
