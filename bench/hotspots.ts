/**
 * A probe of the layout cost behind conv2dSame's filter gradient (src/layers/ops.ts): the gradient is one
 * product patches^T . dy over the im2col patches [N*H*W, k*k*cIn] and dy [N*H*W, cOut]. It can be written
 * `matMul(patches, dy, transposeA = true)` or `matMul(transpose(patches), dy)`; on wasm the two differ a lot.
 * The shapes are those of the benchmark workloads: the coupling-net workload (batch 16 of 16x16, conv3x3
 * 6->128, conv1x1 128->128, conv3x3 128->12) and two of the CAFLOW 32x32 model's largest products.
 * Measurement only: nothing in src/ is changed.
 */
import * as tf from '@tensorflow/tfjs';
import { round, timeTf, type RunSize, type Timing } from './common.js';

export interface TransposeProbe {
  readonly workload: string;
  /** patches [rows, k*k*cIn] and dy [rows, cOut]. */
  readonly a: readonly number[];
  readonly b: readonly number[];
  readonly transposeA: Timing;
  readonly explicitTranspose: Timing;
  /** transposeA / (explicit transpose + plain matMul). */
  readonly ratio: number;
}

const SHAPES: ReadonlyArray<readonly [string, [number, number], [number, number]]> = [
  ['coupling net, conv3x3 128->12', [4096, 1152], [4096, 12]],
  ['coupling net, conv1x1 128->128', [4096, 128], [4096, 128]],
  ['coupling net, conv3x3 6->128', [4096, 54], [4096, 128]],
  ['CAFLOW 32x32, G_0 coarse block, conv3x3 216->32', [128, 1944], [128, 32]],
  ['CAFLOW 32x32, encoder scale 0, conv3x3 32->12', [2048, 288], [2048, 12]],
];

export const probeTransposeA = (size: RunSize): TransposeProbe[] => {
  const { warmup, reps } = size.cheap;
  return SHAPES.map(([workload, a, b]) => {
    const x = tf.randomNormal(a, 0, 1, 'float32', 1);
    const y = tf.randomNormal(b, 0, 1, 'float32', 2);
    const transposeA = timeTf(() => tf.matMul(x, y, true, false), warmup, reps);
    const explicitTranspose = timeTf(() => tf.tidy(() => tf.matMul(tf.transpose(x), y)), warmup, reps);
    tf.dispose([x, y]);
    return { workload, a, b, transposeA, explicitTranspose, ratio: round(transposeA.median_ms / explicitTranspose.median_ms, 3) };
  });
};
