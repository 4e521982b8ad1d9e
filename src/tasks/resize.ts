/**
 * Bicubic resizing as MATLAB's `imresize(x, [h w], 'bicubic')`: Keys' cubic convolution kernel with
 * a = -0.5,
 *
 *   k(t) = (a+2)|t|^3 - (a+3)|t|^2 + 1          for |t| <= 1,
 *          a|t|^3 - 5a|t|^2 + 8a|t| - 4a        for 1 < |t| < 2,   0 otherwise,
 *
 * with pixel centres aligned (output pixel i sits at input coordinate (i + 0.5) * in/out - 0.5) and
 * antialiasing when downscaling: the kernel is stretched by the scale factor s = in/out > 1, i.e.
 * weights k(d / s), so every output pixel averages over about 4s input pixels (as imresize and PIL do).
 * Each output pixel's weights are normalised to sum to 1. Taps beyond the image edge are mirrored
 * (half-sample symmetric: index -1 reads pixel 0, index -2 reads pixel 1), again as imresize does.
 *
 * Separable: for NHWC x, out = M_h · x · M_wᵀ per image and channel, with the two resampling matrices
 * built here in JS and applied with matMul.
 */
import * as tf from '@tensorflow/tfjs';

/** Keys' parameter; -0.5 is MATLAB's and PIL's choice (third-order accurate). */
export const KEYS_A = -0.5;

/** Keys' cubic convolution kernel k(t) with a = -0.5. */
export const cubic = (x: number): number => {
  const a = KEYS_A;
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
};

/** Half-sample symmetric reflection of an index into [0, n). */
const mirror = (j: number, n: number): number => {
  const period = 2 * n;
  const m = ((j % period) + period) % period;
  return m < n ? m : period - 1 - m;
};

/**
 * The resampling matrix from `inSize` to `outSize` samples, row-major [outSize, inSize]: row i holds
 * the normalised weights of output sample i, so each row sums to 1.
 */
export const resampleMatrix = (inSize: number, outSize: number): Float32Array => {
  if (!Number.isInteger(inSize) || !Number.isInteger(outSize) || inSize < 1 || outSize < 1)
    throw new RangeError(`resampleMatrix: sizes must be positive integers, got ${inSize} -> ${outSize}`);
  const scale = inSize / outSize;
  const stretch = Math.max(1, scale);
  const m = new Float64Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale - 0.5;
    const lo = Math.floor(centre - 2 * stretch);
    const hi = Math.ceil(centre + 2 * stretch);
    let total = 0;
    for (let j = lo; j <= hi; j++) total += cubic((j - centre) / stretch);
    for (let j = lo; j <= hi; j++) {
      const w = cubic((j - centre) / stretch);
      const k = i * inSize + mirror(j, inSize);
      if (w !== 0) m[k] = (m[k] as number) + w / total;
    }
  }
  return Float32Array.from(m);
};

/** Resizes NHWC images to `height` x `width` with bicubic interpolation (see the file comment). */
export const bicubicResize = (x: tf.Tensor4D, height: number, width: number): tf.Tensor4D =>
  tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const mh = tf.tensor2d(resampleMatrix(h, height), [height, h]);
    const mw = tf.tensor2d(resampleMatrix(w, width), [width, w]);
    // Along W: [n*h, w, c] -> for each (n, h): M_w · x[n, h] with x[n, h] as a [w, c] matrix.
    const alongW = tf.matMul(tf.reshape(tf.transpose(x, [0, 1, 3, 2]), [n * h * c, w]), mw, false, true); // [n*h*c, width]
    // Along H: bring h last, resample, and restore NHWC.
    const hLast = tf.reshape(tf.transpose(tf.reshape(alongW, [n, h, c, width]), [0, 2, 3, 1]), [n * c * width, h]);
    const alongH = tf.matMul(hLast, mh, false, true); // [n*c*width, height]
    return tf.transpose(tf.reshape(alongH, [n, c, width, height]), [0, 3, 2, 1]) as tf.Tensor4D;
  });

/** Rounds and clips to 8-bit values (still float32). */
export const to8bit = (x: tf.Tensor4D): tf.Tensor4D => tf.tidy(() => tf.clipByValue(tf.round(x), 0, 255) as tf.Tensor4D);
