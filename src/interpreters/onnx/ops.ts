/**
 * Composite ONNX operations used by the lowerings, each the counterpart of a tfjs op the definitions
 * use. Opset 17. Tensors are channels-last like the tfjs ones, so "the channel axis" is axis -1.
 */
import type { Graph } from './graph.js';

export const add = (g: Graph, a: string, b: string): string => g.op('Add', [a, b]);
export const sub = (g: Graph, a: string, b: string): string => g.op('Sub', [a, b]);
export const mul = (g: Graph, a: string, b: string): string => g.op('Mul', [a, b]);
export const div = (g: Graph, a: string, b: string): string => g.op('Div', [a, b]);
export const neg = (g: Graph, a: string): string => g.op('Neg', [a]);
export const exp = (g: Graph, a: string): string => g.op('Exp', [a]);
export const log = (g: Graph, a: string): string => g.op('Log', [a]);
export const square = (g: Graph, a: string): string => g.op('Mul', [a, a]);
export const softplus = (g: Graph, a: string): string => g.op('Softplus', [a]);

/** a * c for a JS number c (a float scalar initializer). */
export const scale = (g: Graph, a: string, c: number): string => mul(g, a, g.scalar(c));
export const shift = (g: Graph, a: string, c: number): string => add(g, a, g.scalar(c));

/**
 * log(1 + x) without losing x's digits when |x| is small (ONNX has no Log1p): with u = 1 + x rounded,
 * log1p(x) = log(u) * x / (u - 1), exact to a few ulps (Goldberg, "What every computer scientist
 * should know about floating-point arithmetic", thm. 4), and x itself where u rounds to 1.
 */
export const log1p = (g: Graph, x: string): string => {
  const u = shift(g, x, 1);
  const um1 = shift(g, u, -1);
  const isOne = g.op('Equal', [um1, g.scalar(0)]);
  const safe = g.op('Where', [isOne, g.scalar(1), um1]);
  return g.op('Where', [isOne, x, div(g, mul(g, log(g, u), x), safe)]);
};

/**
 * exp(x) - 1 without cancellation for small |x| (ONNX has no Expm1), by Kahan's trick: with
 * u = exp(x) rounded, expm1(x) = (u - 1) * x / log(u), and x where u rounds to 1. Large |x| follow
 * from u (u - 1 is exact there or the answer is -1 / overflow anyway).
 */
export const expm1 = (g: Graph, x: string): string => {
  const u = exp(g, x);
  const um1 = shift(g, u, -1);
  const lu = log(g, u);
  const isOne = g.op('Equal', [um1, g.scalar(0)]);
  const small = g.op('Less', [g.op('Abs', [x]), g.scalar(1)]);
  const safeLog = g.op('Where', [isOne, g.scalar(1), lu]);
  const kahan = g.op('Where', [isOne, x, div(g, mul(g, um1, x), safeLog)]);
  return g.op('Where', [small, kahan, um1]);
};

/** Splits the last axis into pieces of the given sizes (empty pieces are left out of the node and returned as ''). */
export const splitLast = (g: Graph, x: string, sizes: readonly number[]): string[] => {
  const nonEmpty = sizes.filter((s) => s > 0);
  if (nonEmpty.length === 1) return sizes.map((s) => (s > 0 ? x : ''));
  const parts = g.nodeN('Split', [x, g.ints(nonEmpty)], nonEmpty.length, { axis: -1 });
  let i = 0;
  return sizes.map((s) => (s > 0 ? (parts[i++] as string) : ''));
};

/** Concatenation on the last axis (empty names skipped; one part is returned as is). */
export const concatLast = (g: Graph, parts: readonly string[]): string => {
  const used = parts.filter((p) => p !== '');
  return used.length === 1 ? (used[0] as string) : g.op('Concat', used, { axis: -1 });
};

/** Reshape to fixed trailing dimensions with the batch inferred: [-1, ...dims]. */
export const reshapeBatch = (g: Graph, x: string, dims: readonly number[]): string => g.op('Reshape', [x, g.ints([-1, ...dims])]);

export const transpose = (g: Graph, x: string, perm: readonly number[]): string => g.op('Transpose', [x], { perm });

/** Per-sample sum over every axis but the first: [N, ...] -> [N]. */
export const sumPerSample = (g: Graph, x: string): string =>
  g.op('ReduceSum', [g.op('Flatten', [x], { axis: 1 }), g.ints([1])], { keepdims: 0 });

/** Sum over axis 1 of a [M, K] tensor: [M]. */
export const sumRows = (g: Graph, x: string): string => g.op('ReduceSum', [x, g.ints([1])], { keepdims: 0 });

/** Columns [from, to) of a [M, K] tensor. */
export const columns = (g: Graph, x: string, from: number, to: number): string => g.op('Slice', [x, g.ints([from]), g.ints([to]), g.ints([1])]);

/** A [M, 1] column of `value` with as many rows as the [M, ...] tensor `like`. */
export const constantColumn = (g: Graph, like: string, value: number): string => {
  const rows = g.op('Slice', [g.op('Shape', [like]), g.ints([0]), g.ints([1])]);
  return g.op('Expand', [g.floats('col', Float32Array.of(value), [1, 1]), g.op('Concat', [rows, g.ints([1])], { axis: 0 })]);
};

/** Zeros of the shape of `like`. */
export const zerosLike = (g: Graph, like: string): string =>
  g.op('ConstantOfShape', [g.op('Shape', [like])], { value: { tensor: { name: 'zero', type: 1, dims: [1], data: Float32Array.of(0) } } });

/** [N] zeros for the batch of `like` ([N, ...]). */
export const batchZeros = (g: Graph, like: string): string => {
  const n = g.op('Slice', [g.op('Shape', [like]), g.ints([0]), g.ints([1])]);
  return g.op('ConstantOfShape', [n], { value: { tensor: { name: 'zero', type: 1, dims: [1], data: Float32Array.of(0) } } });
};

export const clip = (g: Graph, x: string, low: number, high: number): string => g.op('Clip', [x, g.scalar(low), g.scalar(high)]);

/** where(cond, a, b) with a float mask from a comparison. */
export const where = (g: Graph, cond: string, a: string, b: string): string => g.op('Where', [cond, a, b]);
