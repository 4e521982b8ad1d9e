/** y = W x at every position of a channels-last tensor, and log|det W| with a gradient (for inv1x1). */
import * as tf from '@tensorflow/tfjs';
import { inverseFromLU, luDecompose, slogdetFromLU, transpose, type LU } from './linalg.js';

/** y[..., i] = sum_j W[i, j] x[..., j], for a tensor of any rank (channels last). */
export const mixChannels = <T extends tf.Tensor>(x: T, w: tf.Tensor2D): T => {
  const c = x.shape[x.rank - 1] as number;
  const rows = x.size / c;
  const flat = x.rank === 2 ? (x as unknown as tf.Tensor2D) : tf.reshape(x, [rows, c]);
  const mixed = tf.matMul(flat, w, false, true);
  return (x.rank === 2 ? mixed : tf.reshape(mixed, x.shape)) as T;
};

/**
 * The float64 work on W (read back to JS, slogdet, inverse) is cached per weight: a tfjs tensor is
 * immutable, so a tensor object always holds the same values, and sampling k times or running
 * forward then inverse with the same params reuses it instead of syncing and factorising again.
 * Training makes new param tensors every step, so it simply misses. Keyed weakly: an entry goes when
 * its tensor is garbage-collected. Variables are mutable (assign), so they are never cached.
 */
interface Entry {
  /** The tensors W is a function of; the entry is valid only for exactly these objects. */
  readonly keys: readonly tf.Tensor[];
  data?: Float32Array;
  /** One factorisation serves both the log-det (forward) and the inverse (its gradient, or inverse()). */
  lu?: LU;
  logAbsDet?: number;
  inverse?: Float64Array;
}

let cache = new WeakMap<tf.Tensor, Entry>();
let cacheEnabled = true;

/** How often the float64 work actually ran (cache hits add nothing); for tests and benchmarks. */
export const channelMixWork = { reads: 0, factorisations: 0, slogdets: 0, inverses: 0 };

/** Turns the cache off or (true) back on, emptying it either way; for tests and before/after benchmarks. */
export const setChannelMixCache = (enabled: boolean): void => {
  cacheEnabled = enabled;
  cache = new WeakMap();
};

const sameKeys = (a: readonly tf.Tensor[], b: readonly tf.Tensor[]): boolean => a.length === b.length && a.every((t, i) => t === b[i]);

/** The cache entry of the weight made from `keys` (a fresh, unshared one when caching does not apply). */
const entryFor = (keys: readonly tf.Tensor[]): Entry => {
  const head = keys[0];
  const cacheable = cacheEnabled && head !== undefined && keys.every((t) => !(t instanceof tf.Variable) && !t.isDisposed);
  if (!cacheable) return { keys };
  const hit = cache.get(head);
  if (hit !== undefined && sameKeys(hit.keys, keys)) return hit;
  const entry: Entry = { keys };
  cache.set(head, entry);
  return entry;
};

const dataOf = (e: Entry, weight: () => tf.Tensor2D): Float32Array => {
  if (e.data === undefined) {
    channelMixWork.reads++;
    // A copy: on the cpu backend dataSync returns the tensor's own storage. Filled inside the tidy but
    // not returned from it: tidy walks its result, and walking a typed array visits every element
    // (5 ms per CAFLOW training step).
    let data = new Float32Array(0);
    tf.tidy(() => {
      data = Float32Array.from(weight().dataSync());
    });
    e.data = data;
  }
  return e.data;
};

const luOf = (e: Entry, n: number, weight: () => tf.Tensor2D): LU => {
  if (e.lu === undefined) {
    channelMixWork.factorisations++;
    e.lu = luDecompose(dataOf(e, weight), n);
  }
  return e.lu;
};

const logAbsDetOf = (e: Entry, n: number, weight: () => tf.Tensor2D): number => {
  if (e.logAbsDet === undefined) {
    channelMixWork.slogdets++;
    e.logAbsDet = slogdetFromLU(luOf(e, n, weight)).logAbsDet;
  }
  return e.logAbsDet;
};

const inverseOf = (e: Entry, n: number, weight: () => tf.Tensor2D): Float64Array => {
  if (e.inverse === undefined) {
    channelMixWork.inverses++;
    e.inverse = inverseFromLU(luOf(e, n, weight));
  }
  return e.inverse;
};

/** W^-1 computed in float64 on the CPU (no backend has a matrix inverse). Not differentiable. */
export const inverseMatrix = (w: tf.Tensor2D): tf.Tensor2D => inverseMatrixOf([w], () => w, w.shape[0]);

/**
 * inverseMatrix of the W that `weight` builds from the tensors `keys` (the cache key; put a trained one
 * first). `weight` only runs on a cache miss.
 */
export const inverseMatrixOf = (keys: readonly tf.Tensor[], weight: () => tf.Tensor2D, n: number): tf.Tensor2D =>
  tf.tensor2d(Float32Array.from(inverseOf(entryFor(keys), n, weight)), [n, n]);

/** log|det W| in float64 with its gradient d/dW = W^-T (Jacobi's formula). */
export const logAbsDet = tf.customGrad(((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const w = inputs[0] as tf.Tensor2D;
  const n = w.shape[0] as number;
  const entry = entryFor([w]);
  const weight = (): tf.Tensor2D => w;
  return {
    value: tf.scalar(logAbsDetOf(entry, n, weight)),
    gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor2d(Float32Array.from(transpose(inverseOf(entry, n, weight), n)), [n, n])),
  };
})) as (w: tf.Tensor2D) => tf.Scalar;
