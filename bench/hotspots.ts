/**
 * A probe of the largest hot spot found in the CAFLOW step profile: the filter-gradient matrix
 * products of conv2dSame (src/layers/ops.ts), `matMul(patches, dy, transposeA = true)`. For the most
 * expensive shapes seen in the profile it times that call against the same product with the left
 * operand transposed explicitly first (`matMul(transpose(patches), dy)`), to show what the layout costs.
 * Measurement only: nothing in src/ is changed.
 */
import * as tf from '@tensorflow/tfjs';
import { round, timeTf, type Profile, type RunSize, type Timing } from './common.js';

export interface TransposeProbe {
  /** patches [rows, k*k*cIn] and dy [rows, cOut]. */
  readonly a: readonly number[];
  readonly b: readonly number[];
  readonly transposeA: Timing;
  readonly explicitTranspose: Timing;
  /** transposeA / explicit transpose + plain matMul. */
  readonly ratio: number;
}

export const probeTransposeA = (profile: Profile, size: RunSize, maxShapes = 3): TransposeProbe[] => {
  const seen = new Set<string>();
  const shapes: Array<[number[], number[]]> = [];
  for (const c of profile.topCalls) {
    if (!c.category.startsWith('MatMul with transposeA')) continue;
    const [a, b] = c.inputs;
    if (a === undefined || b === undefined) continue;
    const key = `${a.join('x')}|${b.join('x')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    shapes.push([a, b]);
    if (shapes.length >= maxShapes) break;
  }
  const { warmup, reps } = size.cheap;
  return shapes.map(([a, b]) => {
    const x = tf.randomNormal([a[0] ?? 1, a[1] ?? 1], 0, 1, 'float32', 1);
    const y = tf.randomNormal([b[0] ?? 1, b[1] ?? 1], 0, 1, 'float32', 2);
    const transposeA = timeTf(() => tf.matMul(x, y, true, false), warmup, reps);
    const explicitTranspose = timeTf(() => tf.tidy(() => tf.matMul(tf.transpose(x), y)), warmup, reps);
    tf.dispose([x, y]);
    return { a, b, transposeA, explicitTranspose, ratio: round(transposeA.median_ms / explicitTranspose.median_ms, 3) };
  });
};
