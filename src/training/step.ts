/**
 * One training step over pure ParamTrees: loss and gradients of the trainable parameters, global-norm
 * clipping, a finiteness check, and an Adam update; plus `NaNGuard`, which stops a run that keeps
 * producing non-finite steps, and `disposeReplaced`, which frees the tensors a step replaced.
 *
 * Gradients: `tf.variableGrads` only differentiates w.r.t. `tf.Variable`s, which are mutable, globally
 * registered by name and would have to be copied in and out of the pure trees every step. Instead
 * `trainStep` flattens the trainable leaves into a list and calls `tf.valueAndGrads` with a function
 * that rebuilds the tree from that list (frozen leaves taken from the original tree) and evaluates the
 * loss on it. The tfjs tape differentiates w.r.t. tensor identity, so any plain tensor works, frozen
 * parameters get no gradient (no wasted backward work), and the params stay immutable values.
 *
 * Host sync: the loss and the pre-clipping gradient norm are stacked and read with ONE `dataSync` per
 * step. If either is not finite the step is skipped: params and state are returned as the very same
 * objects (bitwise unchanged, Adam's step count not advanced) and `skipped` is true.
 */
import * as tf from '@tensorflow/tfjs';
import { flattenParams, isTensor, mapParams, type ParamTree } from '../dsl/params.js';
import type { ParamInfo } from '../interpreters/param-shapes.js';
import { adamUpdateFlat, type AdamState } from './adam.js';
import { clipScale, flatGradients, normOfFlat } from './clip.js';

/** Options of one `trainStep`. */
export interface TrainStepOptions {
  /** A learning rate, or a schedule called with the 1-based Adam step (state.step + 1). */
  readonly lr: number | ((step: number) => number);
  /** Maximum global gradient norm; Infinity disables clipping. Default 1 (CAFLOW). */
  readonly clipNorm?: number;
  /** Dotted paths of the parameters to train (see `trainablePaths`); the others stay frozen. */
  readonly trainable: ReadonlySet<string>;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
}

/** What `trainStep` returns: the new parameters and Adam state, the loss and gradient norm, and whether the step was skipped. */
export interface TrainStepResult {
  readonly params: ParamTree;
  readonly state: AdamState;
  /** The loss at the params passed in (before the update). */
  readonly loss: number;
  /** The global gradient norm before clipping. */
  readonly gradNorm: number;
  /** True when loss or gradNorm was not finite and nothing was updated. */
  readonly skipped: boolean;
}

/** The set of trainable paths from `paramInfo(spec)`. */
export const trainablePaths = (info: readonly ParamInfo[]): Set<string> =>
  new Set(info.filter((p) => p.trainable).map((p) => p.path));

/**
 * One optimisation step of `lossFn` (a scalar; it may create tensors freely, all are released).
 * Returns new params and state; the inputs are neither mutated nor disposed, and tensors not updated
 * are shared with them, so release the old trees with `disposeReplaced(old, next)`.
 * Throws (a TypeError) when `trainable` is empty or names a path the params do not have, when the loss
 * is not a scalar, or when a trainable parameter does not influence the loss.
 */
export const trainStep = (
  lossFn: (params: ParamTree) => tf.Scalar,
  params: ParamTree,
  state: AdamState,
  options: TrainStepOptions,
): TrainStepResult => {
  const { lr, clipNorm = 1, trainable, beta1, beta2, eps } = options;
  if (!(clipNorm > 0)) throw new RangeError(`trainStep: clipNorm must be positive (Infinity disables clipping), got ${clipNorm}`);
  const leaves = flattenParams(params);
  const known = new Set(leaves.map(([path]) => path));
  const unknown = [...trainable].filter((p) => !known.has(p));
  if (unknown.length > 0) throw new TypeError(`trainStep: trainable paths not in the params: ${unknown.join(', ')}`);
  const xs = leaves.filter(([path]) => trainable.has(path));
  if (xs.length === 0) throw new TypeError('trainStep: no trainable parameters');
  if (new Set(xs.map(([, t]) => t.id)).size !== xs.length) {
    throw new TypeError('trainStep: the same tensor appears at two trainable paths; give each parameter its own tensor');
  }
  const index = new Map(xs.map(([path], i) => [path, i]));
  const rebuild = (args: readonly tf.Tensor[]): ParamTree =>
    mapParams(params, (t, path) => {
      const i = index.get(path);
      return i === undefined ? t : (args[i] as tf.Tensor);
    });

  const [stats, clipped] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
    let value: tf.Scalar;
    let grads: tf.Tensor[];
    try {
      ({ value, grads } = tf.valueAndGrads((...args: tf.Tensor[]) => {
        const loss = lossFn(rebuild(args));
        if (!isTensor(loss) || loss.rank !== 0) throw new TypeError(`trainStep: lossFn must return a scalar tensor, got shape [${isTensor(loss) ? loss.shape.join(',') : typeof loss}]`);
        return loss;
      })(xs.map(([, t]) => t)));
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('Cannot compute gradient')) {
        throw new TypeError('trainStep: some trainable parameter does not influence the loss; remove it from `trainable`');
      }
      throw e;
    }
    // Clipped as one vector, which is also what Adam updates: no per-tensor ops in between.
    const flat = flatGradients(grads);
    const norm = normOfFlat(flat);
    return [tf.stack([tf.cast(value, 'float32'), norm]), clipNorm === Infinity ? flat : tf.mul(flat, clipScale(norm, clipNorm))];
  });
  const data = stats.dataSync(); // the one host sync of the step
  stats.dispose();
  const loss = data[0] as number;
  const gradNorm = data[1] as number;
  try {
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) return { params, state, loss, gradNorm, skipped: true };
    const rate = typeof lr === 'function' ? lr(state.step + 1) : lr;
    const next = adamUpdateFlat(params, clipped as tf.Tensor1D, state, { lr: rate, beta1, beta2, eps, trainable });
    return { ...next, loss, gradNorm, skipped: false };
  } finally {
    clipped.dispose();
  }
};

type TensorHolder = ParamTree | AdamState;

const isAdamState = (x: TensorHolder): x is AdamState =>
  !isTensor(x) && !Array.isArray(x) && typeof (x as { step?: unknown }).step === 'number';

const tensorsOf = (x: TensorHolder): tf.Tensor[] =>
  isAdamState(x) ? [...flattenParams(x.m), ...flattenParams(x.v)].map(([, t]) => t) : flattenParams(x as ParamTree).map(([, t]) => t);

/**
 * Disposes the tensors of `old` that `next` no longer holds (by identity): after
 * `const r = trainStep(f, params, state, o)`, call `disposeReplaced(params, r.params)` and
 * `disposeReplaced(state, r.state)`. Safe after a skipped step (nothing is disposed) and idempotent.
 * Returns the number of tensors disposed.
 */
export const disposeReplaced = (old: TensorHolder, next: TensorHolder): number => {
  const keep = new Set(tensorsOf(next));
  let n = 0;
  for (const t of new Set(tensorsOf(old))) {
    if (!keep.has(t) && !t.isDisposed) {
      t.dispose();
      n += 1;
    }
  }
  return n;
};

/** Thrown by `NaNGuard` when too many steps in a row were skipped as non-finite. */
export class TrainingDivergedError extends Error {
  constructor(
    readonly consecutive: number,
    readonly lastLoss: number | undefined,
    readonly lastGradNorm: number | undefined,
  ) {
    super(
      `training diverged: ${consecutive} steps in a row were skipped because the loss or the gradient norm ` +
        `was not finite (last loss ${lastLoss ?? 'not recorded'}, last gradient norm ${lastGradNorm ?? 'not recorded'}). ` +
        'Try a lower learning rate or a longer warm-up, tighter gradient clipping, or check the data ' +
        '(e.g. pixels dequantised into the open unit interval) and the initialisation; then resume from the last good checkpoint.',
    );
    this.name = 'TrainingDivergedError';
  }
}

/** The part of a `TrainStepResult` that `NaNGuard.record` reads. */
export type StepOutcome = Pick<TrainStepResult, 'skipped' | 'loss'> & { readonly gradNorm?: number };

/**
 * Counts consecutive skipped steps; `record` throws a TrainingDivergedError when the count reaches
 * `maxConsecutive` (default 10). A good step resets the count.
 */
export class NaNGuard {
  readonly maxConsecutive: number;
  #consecutive = 0;
  #total = 0;

  constructor(options: { readonly maxConsecutive?: number } = {}) {
    const { maxConsecutive = 10 } = options;
    if (!(Number.isInteger(maxConsecutive) && maxConsecutive >= 1)) {
      throw new RangeError(`NaNGuard: maxConsecutive must be an integer >= 1, got ${maxConsecutive}`);
    }
    this.maxConsecutive = maxConsecutive;
  }

  /** Skipped steps in a row so far. */
  get consecutive(): number {
    return this.#consecutive;
  }

  /** Skipped steps since construction. */
  get totalSkipped(): number {
    return this.#total;
  }

  /** Records a step: a `trainStep` result, or just whether it was skipped. */
  record(outcome: StepOutcome | boolean): void {
    const { skipped, loss, gradNorm }: { skipped: boolean; loss?: number; gradNorm?: number } =
      typeof outcome === 'boolean' ? { skipped: outcome } : outcome;
    if (!skipped) {
      this.#consecutive = 0;
      return;
    }
    this.#consecutive += 1;
    this.#total += 1;
    if (this.#consecutive >= this.maxConsecutive) throw new TrainingDivergedError(this.#consecutive, loss, gradNorm);
  }
}
