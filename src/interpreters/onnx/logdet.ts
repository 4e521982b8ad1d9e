/**
 * Log-dets while a graph is built: per-sample tensors ([N]) plus a constant known at export time
 * (actnorm, 1x1 convolutions and other layers whose log-det does not depend on the input are summed
 * in float64 in JS and added once). `total` turns one into a graph value.
 */
import type { Graph } from './graph.js';
import { batchZeros, shift } from './ops.js';

export interface LogDet {
  /** Names of [N] tensors. */
  readonly terms: readonly string[];
  readonly constant: number;
}

export const noLogDet: LogDet = { terms: [], constant: 0 };
export const constantLogDet = (constant: number): LogDet => ({ terms: [], constant });
export const tensorLogDet = (term: string): LogDet => ({ terms: [term], constant: 0 });

export const sumLogDets = (parts: readonly LogDet[]): LogDet => ({
  terms: parts.flatMap((p) => p.terms),
  constant: parts.reduce((c, p) => c + p.constant, 0),
});

/** The [N] log-det of the whole graph; `like` is any [N, ...] tensor of it (for the batch size). */
export const total = (g: Graph, ld: LogDet, like: string): string => {
  const tensors = ld.terms.length === 0 ? batchZeros(g, like) : ld.terms.length === 1 ? (ld.terms[0] as string) : g.op('Sum', [...ld.terms]);
  return ld.constant === 0 && ld.terms.length > 0 ? tensors : shift(g, tensors, ld.constant);
};
