/**
 * UnsortedSegmentSum for the `wasm` backend, which has none (tfjs-backend-wasm 4.22). tfjs's gradient
 * of Gather is an UnsortedSegmentSum, so without it any `permute` (a gather on the channel axis) could
 * run forward on wasm but not be differentiated: training and verify's dense-Jacobian check failed with
 * "Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'".
 *
 * out[s, ...] = sum of x[i, ...] over i with segmentIds[i] = s, for s in [0, numSegments); ids outside
 * that range are dropped, as on the cpu backend. One pass over x in JS (the gathers it undoes are
 * small: a channel permutation's gradient).
 *
 * Browser-safe: no Node imports.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { asWasmHeap, WASM_BACKEND } from './wasm-kernel-registry.js';

const segmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs['x'] as TensorInfo;
  const ids = inputs['segmentIds'] as TensorInfo;
  const { numSegments } = attrs as { numSegments: number };
  const heap = asWasmHeap(backend);
  const inner = x.shape.slice(ids.shape.length).reduce((a, b) => a * b, 1);
  const out = heap.makeOutput([numSegments, ...x.shape.slice(ids.shape.length)], x.dtype);
  // Views are taken after makeOutput, which may grow (and so replace) the heap's buffer.
  const from = heap.typedArrayFromHeap(x);
  const segments = heap.typedArrayFromHeap(ids);
  const to = heap.typedArrayFromHeap(out);
  to.fill(0);
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as number;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) to[dst + j] = (to[dst + j] as number) + (from[src + j] as number);
  }
  return out;
};

/** Registers it unless wasm has its own (a later tfjs-backend-wasm may). Idempotent. */
export function registerWasmSegmentSum(): void {
  if (tf.getKernel(tf.UnsortedSegmentSum, WASM_BACKEND) !== undefined) return;
  tf.registerKernel({ kernelName: tf.UnsortedSegmentSum, backendName: WASM_BACKEND, kernelFunc: segmentSum });
}
