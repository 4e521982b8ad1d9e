/**
 * The op algebra: the operations that bijectors, transformers, nets and distributions are written
 * against, once. Each engine implements `Ops<T>` for its own kind of value `T`:
 *
 * - tfjs (src/algebra/tfjs.ts): `T` is a tf.Tensor, each op one tf op (gradients come from tfjs);
 * - float64 (src/algebra/float64.ts): `T` is a shaped Float64Array, a precise reference for small shapes;
 * - ONNX (src/interpreters/onnx): `T` is the name of a graph value, each op appends nodes;
 * - PyTorch (src/interpreters/pytorch): `T` is a Python variable name, each op appends a line.
 *
 * Conventions shared by every engine:
 * - values are channels-last with a leading batch axis: [N, ...spatial, C] for an event, [N] for a
 *   per-sample quantity (log-dets), and no batch axis for parameters and constants;
 * - binary ops broadcast as numpy does (trailing axes aligned);
 * - shapes that the maths needs (split sizes, event shapes) come from the spec, never from a value,
 *   so an engine whose values carry no static shape (ONNX, Python) can run the same maths;
 * - comparisons return a boolean mask that only `where` consumes;
 * - ops state the stable form they compute (log1p, expm1, softplus, logSigmoid), and every engine
 *   keeps that form, so the numbers agree to float32 rounding.
 */

/** A tree of values (parameters, or a net's weights) keyed as in the checkpoint. */
export type ValueNode<T> = T | readonly ValueNode<T>[] | { readonly [key: string]: ValueNode<T> };
/** A record of value nodes: a kind's parameters. */
export type ValueTree<T> = { readonly [key: string]: ValueNode<T> };

export interface Ops<T> {
  /** The engine's name, for messages ('tfjs', 'float64', 'onnx', 'pytorch'). */
  readonly engine: string;
  /** Whether a tree entry is one of this engine's values (a leaf) rather than a subtree. */
  isValue(v: unknown): v is T;

  // ---- constants
  /** A scalar constant (broadcasts against anything). */
  scalar(c: number): T;
  /** A constant tensor without a batch axis, row-major values. */
  constant(values: ArrayLike<number>, shape: readonly number[]): T;

  // ---- elementwise arithmetic (broadcasting)
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  neg(a: T): T;
  square(a: T): T;
  sqrt(a: T): T;
  abs(a: T): T;
  maximum(a: T, b: T): T;
  minimum(a: T, b: T): T;

  // ---- elementwise transcendental functions, in their stable forms
  exp(a: T): T;
  log(a: T): T;
  /** log(1 + a), accurate for small |a|. */
  log1p(a: T): T;
  /** exp(a) - 1, accurate for small |a|. */
  expm1(a: T): T;
  /** log(1 + exp(a)), finite for every finite a. */
  softplus(a: T): T;
  /** log(sigmoid(a)) = -softplus(-a). */
  logSigmoid(a: T): T;
  sigmoid(a: T): T;
  tanh(a: T): T;
  atan(a: T): T;
  sin(a: T): T;
  cos(a: T): T;
  sinh(a: T): T;
  cosh(a: T): T;
  /** asinh(a) = log(a + sqrt(a^2 + 1)), computed without cancellation for a < 0. */
  asinh(a: T): T;
  relu(a: T): T;
  /** a for a >= 0, expm1(a) below: the ELU activation of dense nets. */
  elu(a: T): T;
  /** Clips to [low, high]. */
  clip(a: T, low: number, high: number): T;

  // ---- comparisons and selection
  greaterEqual(a: T, b: T): T;
  less(a: T, b: T): T;
  /** Elementwise cond ? a : b (broadcasting); the unselected branch must still be finite for gradients. */
  where(cond: T, a: T, b: T): T;

  // ---- reductions
  /** Per-sample sum over every axis but the batch axis: [N, ...] -> [N]. */
  sumEvent(a: T): T;
  /** Sum over the last axis, which is dropped. */
  sumLast(a: T): T;
  /** Softmax over the last axis. */
  softmaxLast(a: T): T;
  /** Inclusive cumulative sum over the last axis. */
  cumsumLast(a: T): T;
  /** Sum of a parameter (no batch axis) over all its elements: a scalar. */
  sumAll(a: T): T;

  // ---- batch
  /** Zeros of the shape of `like` (batch axis included): a starting value that is exact whatever `like` holds. */
  zerosLike(like: T): T;
  /** [N] filled with the scalar `value`, N the batch of `like` ([N, ...]). */
  perSample(like: T, value: T): T;

  // ---- structure (sizes from the spec)
  /** Splits the last axis into pieces of these sizes (a 0 size gives an empty piece). */
  splitLast(a: T, sizes: readonly number[]): T[];
  /** Concatenates on the last axis. */
  concatLast(parts: readonly T[]): T;
  /** Elements [begin, begin + size) of the last axis. */
  sliceLast(a: T, begin: number, size: number): T;
  /** Reshapes keeping the batch axis: [N, ...] -> [N, ...dims]. */
  reshape(a: T, dims: readonly number[]): T;
  /** Permutes all axes, the batch axis included (perm[0] is usually 0). */
  transpose(a: T, perm: readonly number[]): T;
  /** Pads the last axis with `before` and `after` copies of the constant `value`. */
  padLast(a: T, before: number, after: number, value: number): T;
  /** Picks elements of the last axis by constant indices: out[..., i] = a[..., indices[i]]. */
  gatherLast(a: T, indices: readonly number[]): T;

  // ---- linear algebra and nets
  /** a [..., K] times b [K, M] (b without a batch axis): [..., M]. */
  matmul(a: T, b: T): T;
  /** y[..., i] = sum_j w[i, j] x[..., j]: a C x C matrix (no batch axis) applied to the channels at every position. */
  mixChannels(x: T, w: T): T;
  /**
   * log|det w| of a square matrix (no batch axis): a scalar, differentiable (d/dw = w^-T). Engines may
   * compute it in float64 (tfjs does: an LU factorisation in JavaScript).
   */
  logAbsDet(w: T): T;
  /** w^-1 of a square matrix (no batch axis), for an inverse pass; need not be differentiable. */
  inverseMatrix(w: T): T;
  /** 'same'-padded stride-1 convolution of x [N, H, W, Cin] with kernel [k, k, Cin, Cout], plus bias [Cout]. */
  conv2d(x: T, kernel: T, bias: T): T;
  /** relu(conv2d(x, kernel, bias)): one op so that an engine may run it as one fused kernel (tfjs does). */
  conv2dRelu(x: T, kernel: T, bias: T): T;

  // ---- control
  /**
   * `state` after `n` applications of `body` (body(i, state) for i = 0..n-1): a sequential pass such as
   * an autoregressive inverse or an ODE solve, written once; engines may unroll it or emit a loop, so
   * the step index `i` is a scalar value of the engine (not a JS number) and the body is traced once.
   * `until` (optional) gives a boolean mask of the state: once it holds everywhere the body must leave
   * the state unchanged, so an engine that can read values (tfjs, float64, Python) may stop early and
   * one that cannot (an unrolled ONNX graph) runs all n steps, with the same result.
   */
  iterate(n: number, state: readonly T[], body: (i: T, state: readonly T[]) => readonly T[], until?: (state: readonly T[]) => T): readonly T[];
}

/** Values by name: conditioning inputs of a pass. */
export type Context<T> = { readonly [name: string]: T };

/** The result of one pass of a bijector written on the algebra. */
export interface AlgebraPass<T> {
  readonly outs: readonly T[];
  /** log|det| of the pass's Jacobian, per sample ([N]). */
  readonly logDet: T;
}

/**
 * A bijector's maths on the algebra: the same function serves every engine. `params` mirrors the
 * parameter tree of the kind (src/dsl/params.ts), as the engine's values.
 */
export type AlgebraMaths<S> = <T>(o: Ops<T>, spec: S, params: ValueTree<T>, xs: readonly T[], ctx: Context<T>) => AlgebraPass<T>;

/** Forward and inverse written once. */
export interface AlgebraBijector<S> {
  readonly forward: AlgebraMaths<S>;
  readonly inverse: AlgebraMaths<S>;
}

/** The parameter `key` of a tree, with a message naming it when it is missing or a subtree. */
export const param = <T>(o: Ops<T>, tree: ValueTree<T>, key: string): T => {
  const v = Object.prototype.hasOwnProperty.call(tree, key) ? tree[key] : undefined;
  if (v === undefined || !o.isValue(v)) throw new TypeError(`expected a parameter '${key}'`);
  return v;
};

/** The subtree `key` of a tree (a net's weights, say), with a message naming it when it is missing or a leaf. */
export const branch = <T>(o: Ops<T>, tree: ValueTree<T>, key: string): ValueTree<T> => {
  const v = Object.prototype.hasOwnProperty.call(tree, key) ? tree[key] : undefined;
  if (v === undefined || o.isValue(v) || Array.isArray(v)) throw new TypeError(`expected a parameter group '${key}'`);
  return v as ValueTree<T>;
};

/** A per-sample log-det of zero for a batch like `like` ([N, ...] -> [N]): the log-det of a map that only moves elements. */
export const zeroLogDet = <T>(o: Ops<T>, like: T): T => o.perSample(like, o.scalar(0));

/** A tuple of `N` values. */
export type Tuple<T, N extends number, R extends readonly T[] = []> = R['length'] extends N ? R : Tuple<T, N, readonly [...R, T]>;

/** The first `n` inputs of a pass, with a message when there are fewer. */
export const inputsOf = <T, const N extends number>(xs: readonly T[], n: N): Tuple<T, N> => {
  if (xs.length < n) throw new TypeError(`expected ${n} input tensor(s), got ${xs.length}`);
  return xs.slice(0, n) as unknown as Tuple<T, N>;
};
