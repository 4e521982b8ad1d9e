import type * as tf from '@tensorflow/tfjs';

/** An image-to-image task: how the condition Y is made from the target W (8-bit NHWC values). */
export interface Task {
  readonly name: string;
  readonly description: string;
  readonly makeCondition: (w: tf.Tensor4D, seed?: number) => tf.Tensor4D;
  /** Channels of Y for targets with `targetChannels` channels. */
  readonly conditionChannels: (targetChannels: number) => number;
}
