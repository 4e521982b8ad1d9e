/**
 * Bicubic resizing (Keys cubic convolution, a = -0.5, as MATLAB's imresize and PIL), with
 * antialiasing when downscaling (the kernel stretched by the scale factor) and replicated edges.
 * Separable: out = M_h x M_w^T, with the two resampling matrices built in JS and applied by matMul.
 */
import * as tf from '@tensorflow/tfjs';

const A = -0.5;

/** Keys' cubic kernel. */
export const cubic = (x: number): number => {
  const t = Math.abs(x);
  if (t <= 1) return (A + 2) * t ** 3 - (A + 3) * t ** 2 + 1;
  if (t < 2) return A * t ** 3 - 5 * A * t ** 2 + 8 * A * t - 4 * A;
  return 0;
};

/** The [outSize, inSize] resampling matrix; each row sums to 1. */
export const resampleMatrix = (inSize: number, outSize: number): Float32Array => {
  const scale = inSize / outSize;
  const stretch = Math.max(1, scale);
  const m = new Float32Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale - 0.5;
    const lo = Math.floor(center - 2 * stretch);
    const hi = Math.ceil(center + 2 * stretch);
    let total = 0;
    const weights: Array<[number, number]> = [];
    for (let j = lo; j <= hi; j++) {
      const w = cubic((j - center) / stretch);
      if (w === 0) continue;
      weights.push([Math.min(inSize - 1, Math.max(0, j)), w]);
      total += w;
    }
    for (const [j, w] of weights) m[i * inSize + j] = (m[i * inSize + j] as number) + w / total;
  }
  return m;
};

/** Resizes NHWC images to height x width. */
export const bicubicResize = (x: tf.Tensor4D, height: number, width: number): tf.Tensor4D =>
  tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const mw = tf.tensor2d(resampleMatrix(w, width), [width, w]);
    const mh = tf.tensor2d(resampleMatrix(h, height), [height, h]);
    const rows = tf.matMul(tf.reshape(tf.transpose(x, [0, 1, 3, 2]), [n * h * c, w]), mw, false, true); // [n*h*c, width]
    const cols = tf.reshape(tf.transpose(tf.reshape(rows, [n, h, c, width]), [0, 2, 3, 1]), [n * c * width, h]);
    const out = tf.matMul(cols, mh, false, true); // [n*c*width, height]
    return tf.transpose(tf.reshape(out, [n, c, width, height]), [0, 3, 2, 1]) as tf.Tensor4D;
  });

/** Rounds and clips to 8-bit values. */
export const to8bit = (x: tf.Tensor4D): tf.Tensor4D => tf.tidy(() => tf.clipByValue(tf.round(x), 0, 255) as tf.Tensor4D);
