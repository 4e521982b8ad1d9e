/**
 * BatchMatMul for the `wasm` backend with transposed operands laid out first. tfjs-backend-wasm 4.22
 * multiplies untransposed operands with XNNPACK but a transposed one (transposeA or transposeB) with
 * a much slower path: a^T.b with a [128,96] took 2.05 ms, a transpose followed by the plain product
 * 0.17 ms. Every matMul's gradient uses both flags (da = dc.b^T, db = a^T.dc), so autodiff through
 * the Inv1x1 convolutions and the conv filter gradients hit it all the time. This kernel transposes
 * the flagged operands with wasm's Transpose kernel and calls wasm's own BatchMatMul without flags.
 *
 * Browser-safe: no Node imports.
 */
import * as tf from '@tensorflow/tfjs';
import type { BatchMatMulAttrs, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { asWasmHeap, replaceWasmKernel, WASM_BACKEND, type WasmHeap } from './wasm-kernel-registry.js';

/** The last two axes swapped, the batch axes kept. */
const swapLastTwo = (rank: number): number[] => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];

const transposed = (heap: WasmHeap, x: TensorInfo): TensorInfo => {
  const transpose = tf.getKernel(tf.Transpose, WASM_BACKEND);
  if (transpose === undefined) throw new Error('typed-flows: the wasm backend has no Transpose kernel');
  return transpose.kernelFunc({ inputs: { x }, backend: heap, attrs: { perm: swapLastTwo(x.shape.length) } }) as TensorInfo;
};

const batchMatMulKernel =
  (original: KernelFunc): KernelFunc =>
  (args) => {
    const attrs = args.attrs as NamedAttrMap as unknown as BatchMatMulAttrs;
    const a = args.inputs['a'];
    const b = args.inputs['b'];
    if (a === undefined || b === undefined || (!attrs.transposeA && !attrs.transposeB)) return original(args);
    // Leave shape errors (rank < 2, mismatched inner sizes) to wasm's own kernel: its message names the
    // flags as the caller passed them.
    const ra = a.shape.length;
    const rb = b.shape.length;
    if (ra < 2 || rb < 2) return original(args);
    const innerA = attrs.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const innerB = attrs.transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    if (innerA !== innerB) return original(args);
    const heap = asWasmHeap(args.backend);
    const made: TensorInfo[] = [];
    try {
      const aLaid = attrs.transposeA ? transposed(heap, a) : a;
      if (aLaid !== a) made.push(aLaid);
      const bLaid = attrs.transposeB ? transposed(heap, b) : b;
      if (bLaid !== b) made.push(bLaid);
      return original({ ...args, inputs: { a: aLaid, b: bLaid }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of made) heap.disposeData(t.dataId);
    }
  };

/** Puts the transposing BatchMatMul in front of wasm's own. Idempotent. */
export function registerWasmMatMul(): void {
  replaceWasmKernel(tf.BatchMatMul, batchMatMulKernel);
}
