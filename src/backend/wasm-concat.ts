/**
 * Concat for the `wasm` backend without a typed-array object per row. tfjs-backend-wasm 4.22 concatenates
 * in JS with one `subarray` + `set` per row and input, so joining two [8,16,16,6] halves along the
 * channels (2,048 rows of 6 floats each) took 0.48 ms, 20x the cost of the copy itself; a CAFLOW
 * training step makes 63 such calls. Short rows are copied element by element instead. Strings fall
 * back to wasm's own kernel.
 *
 * Browser-safe: no Node imports.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { asWasmHeap, copyRuns, replaceWasmKernel } from './wasm-kernel-registry.js';

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const concatKernel =
  (original: KernelFunc): KernelFunc =>
  (args) => {
    const inputs = Object.values(args.inputs).filter((t): t is TensorInfo => t !== undefined);
    const first = inputs[0];
    if (first === undefined || first.dtype === 'string') return original(args);
    const axis = tf.util.parseAxisParam((args.attrs as { axis: number | number[] }).axis, first.shape)[0] as number;
    tf.backend_util.assertParamsConsistent(
      inputs.map((t) => t.shape),
      axis,
    );
    const nonEmpty = inputs.filter((t) => sizeOf(t.shape) > 0);
    // One input (or none non-empty) is wasm's identity case; let it handle the edge cases.
    if (nonEmpty.length <= 1) return original(args);
    const heap = asWasmHeap(args.backend);
    const outShape = tf.backend_util.computeOutShape(
      inputs.map((t) => t.shape),
      axis,
    );
    const out = heap.makeOutput(outShape, first.dtype);
    // Views are taken after makeOutput, which may grow (and so replace) the heap's buffer.
    const outVals = heap.typedArrayFromHeap(out);
    const rows = sizeOf(first.shape.slice(0, axis));
    const outRow = sizeOf(outShape.slice(axis));
    // Each input fills its own column band of the output's rows.
    let column = 0;
    for (const t of nonEmpty) {
      const row = sizeOf(t.shape.slice(axis));
      copyRuns(outVals, column, outRow, heap.typedArrayFromHeap(t), 0, row, rows, row);
      column += row;
    }
    return out;
  };

/** Puts the row-copying Concat in front of wasm's own (kept for strings). Idempotent. */
export function registerWasmConcat(): void {
  replaceWasmKernel(tf.Concat, concatKernel);
}
