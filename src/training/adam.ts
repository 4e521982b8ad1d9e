/**
 * Adam (Kingma & Ba 2015) written out over ParamTrees, so that its whole state is a step count and two
 * plain tensor trees mirroring the params: a checkpoint stores and restores it exactly, which tf.train's
 * optimisers (state hidden in registered variables) do not allow. Pure: `adamUpdate` returns new trees
 * and neither mutates nor disposes its inputs. Tensors it does not change (frozen parameters and their
 * moments) are shared between the old and the new trees, so a caller releases the old ones with
 * `disposeReplaced(old, next)` (step.ts), never with a blanket dispose.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';
import { flattenParams, mapParams, type ParamTree } from '../dsl/params.js';
import { ADAM_KERNEL, adamInputNames, hasAdamKernel, registerAdamKernel, type AdamKernelAttrs } from './adam-kernel.js';
import { flatGradients, gradientMap, type Gradients } from './clip.js';

registerAdamKernel();

/** Adam's state: the step count and the moment estimates of every parameter. */
export interface AdamState {
  /** Number of updates applied so far (Adam's t of the last update; 0 when fresh). */
  readonly step: number;
  /** First-moment estimates, mirroring the params. */
  readonly m: ParamTree;
  /** Second-moment estimates, mirroring the params. */
  readonly v: ParamTree;
}

/** Which parameters are trained: a set of dotted paths or a predicate on them. */
export type Trainable = ReadonlySet<string> | ((path: string) => boolean);

/** Options of one Adam update. */
export interface AdamOptions {
  /** The learning rate of this update. */
  readonly lr: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /**
   * Parameters outside it are carried over unchanged (same tensor), as are their moments; their
   * gradients, if any, are ignored. A trainable parameter without a gradient is an error.
   * Default: exactly the parameters that have a gradient.
   */
  readonly trainable?: Trainable;
}

/** What an Adam update returns: the new parameters and the new state. */
export interface AdamResult {
  readonly params: ParamTree;
  readonly state: AdamState;
}

/** A fresh state: step 0 and zero moments with the params' shapes (for every parameter, frozen or not). */
export const createAdamState = (params: ParamTree): AdamState => ({
  step: 0,
  m: mapParams(params, (t) => tf.zerosLike(t)),
  v: mapParams(params, (t) => tf.zerosLike(t)),
});

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

const checkOptions = (lr: number, beta1: number, beta2: number, eps: number, step: number): void => {
  if (!(Number.isFinite(lr) && lr >= 0)) throw new RangeError(`adamUpdate: lr must be a finite number >= 0, got ${lr}`);
  if (!(beta1 >= 0 && beta1 < 1)) throw new RangeError(`adamUpdate: beta1 must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) throw new RangeError(`adamUpdate: beta2 must be in [0, 1), got ${beta2}`);
  if (!(eps > 0)) throw new RangeError(`adamUpdate: eps must be positive, got ${eps}`);
  if (!(Number.isInteger(step) && step >= 0)) throw new RangeError(`adamUpdate: state.step must be an integer >= 0, got ${step}`);
};

interface TrainedLeaf {
  readonly path: string;
  readonly p: tf.Tensor;
  readonly m: tf.Tensor;
  readonly v: tf.Tensor;
}

/** The params' leaves with their moments, checked to mirror the state; throws a TypeError naming the path. */
const leavesWithMoments = (params: ParamTree, state: AdamState): Array<TrainedLeaf> => {
  const ms = new Map(flattenParams(state.m));
  const vs = new Map(flattenParams(state.v));
  const leaves = flattenParams(params);
  const out = leaves.map(([path, p]): TrainedLeaf => {
    const m = ms.get(path);
    const v = vs.get(path);
    if (m === undefined || v === undefined || !sameShape(m.shape, p.shape) || !sameShape(v.shape, p.shape)) {
      throw new TypeError(`adamUpdate: the state has no moments of shape [${p.shape.join(',')}] for parameter '${path}'`);
    }
    return { path, p, m, v };
  });
  if (ms.size !== leaves.length || vs.size !== leaves.length) {
    throw new TypeError('adamUpdate: the state has moments for parameters that the params tree lacks');
  }
  return out;
};

const predicate = (trainable: Trainable): ((path: string) => boolean) => (typeof trainable === 'function' ? trainable : (path) => trainable.has(path));

/**
 * The update itself, on every trained tensor at once: `grad` is their gradients flattened and joined
 * in the order of `trained`. On wasm and cpu one fused kernel (adam-kernel.ts) writes the new tensors
 * directly; elsewhere the same formula runs as tensor ops on one joined vector, so its ops run once
 * instead of once per parameter tensor (a CAFLOW has ~200).
 */
const updateFlat = (params: ParamTree, state: AdamState, trained: readonly TrainedLeaf[], grad: tf.Tensor1D, options: AdamOptions): AdamResult => {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = options;
  const t = state.step + 1;
  const c1 = 1 - beta1 ** t;
  const c2 = 1 - beta2 ** t;
  const n = trained.length;
  const [p2, m2, v2] =
    n === 0 ? [[], [], []] : useFusedKernel && hasAdamKernel() ? fusedUpdate(trained, grad, { lr, beta1, beta2, eps, c1, c2, count: n }) : opsUpdate(trained, grad, { lr, beta1, beta2, eps, c1, c2, count: n });
  const updated = new Map(trained.map(({ path }, i) => [path, [p2[i], m2[i], v2[i]] as const]));
  const pick =
    (i: 0 | 1 | 2) =>
    (old: tf.Tensor, path: string): tf.Tensor =>
      updated.get(path)?.[i] ?? old;
  return {
    params: mapParams(params, pick(0)),
    state: { step: t, m: mapParams(state.m, pick(1)), v: mapParams(state.v, pick(2)) },
  };
};

type Updated = [tf.Tensor[], tf.Tensor[], tf.Tensor[]];

const fusedUpdate = (trained: readonly TrainedLeaf[], grad: tf.Tensor1D, attrs: AdamKernelAttrs): Updated => {
  const names = adamInputNames(trained.length);
  const inputs: tf.NamedTensorMap = { g: grad };
  trained.forEach((x, i) => {
    inputs[names.p[i] as string] = x.p;
    inputs[names.m[i] as string] = x.m;
    inputs[names.v[i] as string] = x.v;
  });
  const out = tf.engine().runKernel(ADAM_KERNEL, inputs, attrs as unknown as NamedAttrMap) as tf.Tensor[];
  const n = trained.length;
  return [out.slice(0, n), out.slice(n, 2 * n), out.slice(2 * n)];
};

const opsUpdate = (trained: readonly TrainedLeaf[], grad: tf.Tensor1D, a: AdamKernelAttrs): Updated =>
  tf.tidy((): Updated => {
    const flat = (pick: (x: TrainedLeaf) => tf.Tensor): tf.Tensor1D => tf.concat(trained.map((x) => tf.reshape(pick(x), [-1]) as tf.Tensor1D));
    const mNew = tf.add(tf.mul(flat((x) => x.m), a.beta1), tf.mul(grad, 1 - a.beta1));
    const vNew = tf.add(tf.mul(flat((x) => x.v), a.beta2), tf.mul(tf.square(grad), 1 - a.beta2));
    const denom = tf.add(tf.sqrt(tf.div(vNew, a.c2)), a.eps);
    const pNew = tf.sub(flat((x) => x.p), tf.mul(tf.div(tf.div(mNew, a.c1), denom), a.lr));
    const sizes = trained.map((x) => x.p.size);
    const unflatten = (v: tf.Tensor): tf.Tensor[] => tf.split(v, sizes).map((piece, i) => tf.reshape(piece, (trained[i] as TrainedLeaf).p.shape));
    return [unflatten(pNew), unflatten(mNew), unflatten(vNew)];
  });

let useFusedKernel = true;

/** Turns the fused kernel off (tensor ops everywhere) or back on; for tests and before/after benchmarks. */
export const setFusedAdam = (enabled: boolean): void => {
  useFusedKernel = enabled;
};

/**
 * One Adam update with bias correction, t = state.step + 1:
 *   m' = beta1 m + (1 - beta1) g,   v' = beta2 v + (1 - beta2) g^2,
 *   p' = p - lr * (m' / (1 - beta1^t)) / (sqrt(v' / (1 - beta2^t)) + eps).
 * Returns new params and state; the inputs are untouched. Throws a TypeError naming the path when the
 * state or a gradient does not mirror the params.
 */
export const adamUpdate = (params: ParamTree, grads: Gradients, state: AdamState, options: AdamOptions): AdamResult => {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, trainable } = options;
  checkOptions(lr, beta1, beta2, eps, state.step);
  const g = gradientMap(grads);
  const isTrainable = trainable === undefined ? (path: string) => g.has(path) : predicate(trainable);
  const trained = leavesWithMoments(params, state).filter(({ path }) => isTrainable(path));
  for (const { path, p } of trained) {
    const grad = g.get(path);
    if (grad === undefined) throw new TypeError(`adamUpdate: no gradient for trainable parameter '${path}'`);
    if (!sameShape(grad.shape, p.shape)) {
      throw new TypeError(`adamUpdate: gradient of '${path}' has shape [${grad.shape.join(',')}], expected [${p.shape.join(',')}]`);
    }
  }
  const flatGrad = flatGradients(trained.map(({ path }) => g.get(path) as tf.Tensor));
  try {
    return updateFlat(params, state, trained, flatGrad, options);
  } finally {
    flatGrad.dispose();
  }
};

/**
 * `adamUpdate` with the gradients already flattened and joined into one vector, in the order
 * `flattenParams(params)` lists the trainable leaves (what `flatGradients` builds). Saves the
 * per-tensor work when the caller holds the gradients as one vector anyway (`trainStep` clips them
 * that way). Throws a TypeError when the vector's length is not the trainable leaves' total size.
 */
export const adamUpdateFlat = (params: ParamTree, grad: tf.Tensor1D, state: AdamState, options: AdamOptions & { readonly trainable: Trainable }): AdamResult => {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, trainable } = options;
  checkOptions(lr, beta1, beta2, eps, state.step);
  const isTrainable = predicate(trainable);
  const trained = leavesWithMoments(params, state).filter(({ path }) => isTrainable(path));
  const expected = trained.reduce((n, x) => n + x.p.size, 0);
  if (grad.rank !== 1 || grad.size !== expected) {
    throw new TypeError(`adamUpdateFlat: the gradient vector has shape [${grad.shape.join(',')}], expected [${expected}] (the trainable parameters' total size)`);
  }
  return updateFlat(params, state, trained, grad, options);
};
