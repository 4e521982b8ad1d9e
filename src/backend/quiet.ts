// tfjs's cpu backend prints, on the first tensor it stores in Node, a multi-line banner ("Hi, looks
// like you are running TensorFlow.js in Node.js. To speed things up dramatically, install our node
// backend ..."; MathBackendCPU.write, guarded by its one-shot `firstUse` flag). typed-flows says which
// backend it uses and how to get a faster one itself (selectBackend's log line, docs/backends.md), so
// the banner only repeats that in every process. Clearing the flag silences exactly this banner;
// tfjs's other warnings (and flags such as IS_TEST or PROD, which change more than logging) are left alone.
import * as tf from '@tensorflow/tfjs';

/** Stops the cpu backend's Node.js banner, if that backend has been created (a no-op otherwise). */
export function silenceCpuBanner(): void {
  const cpu: unknown = tf.engine().registry['cpu'];
  if (typeof cpu === 'object' && cpu !== null && 'firstUse' in cpu) (cpu as { firstUse: boolean }).firstUse = false;
}
