/**
 * Slice and SplitV for the `wasm` backend that copy only what they return. tfjs-backend-wasm 4.22
 * slices in JS after `readSync`, which copies the *whole* input out of the wasm heap first, and then
 * copies row by row: taking 1,200 floats from a 827,000-float tensor took 1.9 ms (0.03 ms from a
 * 1,200-float one), and Slice was the largest kernel of a CAFLOW training step (31% of kernel time).
 * These read the input through a view of the heap and copy contiguous runs, merging trailing
 * dimensions that are taken whole. Strings fall back to the original kernels.
 *
 * Browser-safe: no Node imports (the playground registers them too).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { asWasmHeap, copyRun, replaceWasmKernel, stridesOf, type WasmHeap } from './wasm-kernel-registry.js';

/** Copies x[begin : begin + size] into a new output, one `set` per contiguous run. */
const sliceInto = (heap: WasmHeap, x: TensorInfo, begin: readonly number[], size: readonly number[]): TensorInfo => {
  const out = heap.makeOutput([...size], x.dtype);
  if (size.some((d) => d === 0)) return out;
  // Views are taken after makeOutput, which may grow (and so replace) the heap's buffer.
  const outVals = heap.typedArrayFromHeap(out);
  const xVals = heap.typedArrayFromHeap(x);
  const shape = x.shape;
  const strides = stridesOf(shape);
  const rank = shape.length;
  if (rank === 0) {
    outVals.set(xVals.subarray(0, 1));
    return out;
  }
  // Dimensions after d are taken whole, so dims d.. form one contiguous run of `run` elements.
  let d = rank - 1;
  let run = size[d] as number;
  while (d > 0 && size[d] === shape[d]) {
    d -= 1;
    run *= size[d] as number;
  }
  const index = new Array<number>(d).fill(0);
  const outer = size.slice(0, d).reduce((a, b) => a * b, 1);
  let o = 0;
  for (let r = 0; r < outer; r++) {
    let off = (begin[d] as number) * (strides[d] as number);
    for (let i = 0; i < d; i++) off += ((begin[i] as number) + (index[i] as number)) * (strides[i] as number);
    copyRun(outVals, o, xVals, off, run);
    o += run;
    for (let i = d - 1; i >= 0; i--) {
      index[i] = (index[i] as number) + 1;
      if ((index[i] as number) < (size[i] as number)) break;
      index[i] = 0;
    }
  }
  return out;
};

const sliceKernel =
  (original: KernelFunc): KernelFunc =>
  (args) => {
    const x = args.inputs['x'];
    if (x === undefined || x.dtype === 'string') return original(args);
    const attrs = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
    return sliceInto(asWasmHeap(args.backend), x, begin ?? [], size ?? []);
  };

const splitVKernel =
  (original: KernelFunc): KernelFunc =>
  (args) => {
    const x = args.inputs['x'];
    if (x === undefined || x.dtype === 'string') return original(args);
    const attrs = args.attrs as NamedAttrMap as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0] as number;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
    const heap = asWasmHeap(args.backend);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const piece = sliceInto(heap, x, begin, size);
      begin[axis] = (begin[axis] as number) + s;
      return piece;
    });
  };

/** Puts the copying-only Slice and SplitV in front of wasm's own (kept for strings). Idempotent. */
export function registerWasmSlice(): void {
  replaceWasmKernel(tf.Slice, sliceKernel);
  replaceWasmKernel(tf.SplitV, splitVKernel);
}
