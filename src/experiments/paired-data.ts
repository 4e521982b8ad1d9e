/**
 * Paired 8-bit images (target W, condition Y) held as flat NHWC bytes, with deterministic batches.
 * Browser-safe: loaders at the edges fill it.
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../dsl/random.js';
import type { Shape3 } from '../dsl/shape.js';

export interface PairedData {
  /** N x H x W x C bytes of the targets. */
  readonly w: Uint8Array;
  /** N x H x W x C' bytes of the conditions. */
  readonly y: Uint8Array;
  readonly count: number;
  /** [C, H, W] of one target and one condition. */
  readonly targetShape: Shape3;
  readonly conditionShape: Shape3;
}

const sizeOf = ([c, h, w]: Shape3): number => c * h * w;

const gather = (bytes: Uint8Array, shape: Shape3, indices: readonly number[]): tf.Tensor4D => {
  const size = sizeOf(shape);
  const out = new Float32Array(indices.length * size);
  indices.forEach((idx, row) => out.set(bytes.subarray(idx * size, (idx + 1) * size), row * size));
  return tf.tensor4d(out, [indices.length, shape[1], shape[2], shape[0]]);
};

/** The pairs at `indices` as float32 tensors of integer pixel values. */
export const pairsAt = (data: PairedData, indices: readonly number[]): { w: tf.Tensor4D; y: tf.Tensor4D } => ({
  w: gather(data.w, data.targetShape, indices),
  y: gather(data.y, data.conditionShape, indices),
});

/** The training batch of a step: a function of (seed, step) only, so a resumed run sees the same batches. */
export const batchIndices = (count: number, batchSize: number, seed: number, step: number): number[] => {
  const random = seededRandom((seed * 1_000_003 + step * 7919) >>> 0);
  return Array.from({ length: batchSize }, () => Math.floor(random() * count));
};

/** A subset of the pairs (e.g. the validation split). */
export const subset = (data: PairedData, indices: readonly number[]): PairedData => {
  const pick = (bytes: Uint8Array, shape: Shape3): Uint8Array => {
    const size = sizeOf(shape);
    const out = new Uint8Array(indices.length * size);
    indices.forEach((idx, row) => out.set(bytes.subarray(idx * size, (idx + 1) * size), row * size));
    return out;
  };
  return { ...data, w: pick(data.w, data.targetShape), y: pick(data.y, data.conditionShape), count: indices.length };
};
