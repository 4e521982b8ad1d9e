import type * as tf from '@tensorflow/tfjs';

/**
 * An image-to-image task: how the condition Y is made from the target W. Both are NHWC tensors of
 * 8-bit values (0..255 as float32 integers); `makeCondition` returns a new tensor (the caller
 * disposes it) with the same N, H, W and `conditionChannels(C)` channels, rounded and clipped to
 * 0..255. It is deterministic; `seed` is accepted for tasks with random degradations (none of the
 * bundled ones uses it).
 */
export interface Task {
  readonly name: string;
  readonly description: string;
  readonly makeCondition: (w: tf.Tensor4D, seed?: number) => tf.Tensor4D;
  /** Channels of Y for targets with `targetChannels` channels. */
  readonly conditionChannels: (targetChannels: number) => number;
}
