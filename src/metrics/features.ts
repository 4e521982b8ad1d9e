/**
 * Feature vectors of 8-bit images from a user-provided network (for FID): images are brought to what
 * the network declares (bilinear resize to its input size, grey repeated to 3 channels) and to the
 * pixel range it was trained on, pushed through in batches, and flattened to one row per image.
 */
import * as tf from '@tensorflow/tfjs';
import type { FeatureMatrix } from './fid.js';

/** [low, high]: the values 0 and 255 are mapped to. */
export type PixelRange = readonly [number, number];

export interface FeatureModel {
  /** [height, width] the network takes, or null when it accepts any size. */
  readonly inputSize: readonly [number, number] | null;
  /** Input channels the network takes, or null when it does not say (grey is then repeated to 3). */
  readonly channels: number | null;
  /** One batch of prepared images -> features [n, ...] (flattened per image by extractFeatures). */
  readonly predict: (x: tf.Tensor4D) => tf.Tensor;
}

/** 8-bit NHWC -> the network's size, channels and range. */
export const prepareForFeatures = (x8: tf.Tensor4D, model: Pick<FeatureModel, 'inputSize' | 'channels'>, range: PixelRange): tf.Tensor4D =>
  tf.tidy(() => {
    let x = tf.cast(x8, 'float32') as tf.Tensor4D;
    const c = x.shape[3];
    const wanted = model.channels ?? 3;
    if (c === 1 && wanted === 3) x = tf.tile(x, [1, 1, 1, 3]);
    else if (c !== wanted) throw new RangeError(`feature model: it takes ${wanted}-channel images, these have ${c} channels`);
    const size = model.inputSize;
    // halfPixelCenters matches PIL / PyTorch (align_corners=False) / TF2 bilinear resizing.
    if (size !== null && (size[0] !== x.shape[1] || size[1] !== x.shape[2])) x = tf.image.resizeBilinear(x, [size[0], size[1]], false, true);
    const [lo, hi] = range;
    return tf.add(tf.mul(x, (hi - lo) / 255), lo) as tf.Tensor4D;
  });

/** Features of each 8-bit image, in batches; leaves no tensors behind. */
export const extractFeatures = (model: FeatureModel, images8: tf.Tensor4D, range: PixelRange, batchSize = 16): FeatureMatrix => {
  const n = images8.shape[0];
  const rows: Float32Array[] = [];
  let cols = -1;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const f = tf.tidy(() => {
      const out = model.predict(prepareForFeatures(tf.slice(images8, [start, 0, 0, 0], [size, -1, -1, -1]), model, range));
      if (out.shape[0] !== size) throw new RangeError(`feature model: ${size} images gave an output of shape [${out.shape.join(',')}]`);
      return tf.reshape(tf.cast(out, 'float32'), [size, -1]);
    });
    if (cols === -1) cols = f.shape[1] as number;
    rows.push(f.dataSync() as Float32Array);
    f.dispose();
  }
  const data = new Float32Array(n * Math.max(cols, 0));
  let at = 0;
  for (const r of rows) {
    data.set(r, at);
    at += r.length;
  }
  return { rows: n, cols: Math.max(cols, 0), data };
};
