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
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

const BACKEND = 'wasm';

/** The two methods of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const asWasmHeap = (b: object): WasmHeap => {
  if (!('makeOutput' in b) || !('typedArrayFromHeap' in b)) throw new Error('typed-flows: the wasm Slice kernel needs the wasm backend');
  return b as WasmHeap;
};

/** Row-major strides, one per dimension. */
const stridesOf = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
};

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
    // A subarray object per short run costs more than copying its few elements one by one.
    if (run >= 64) outVals.set(xVals.subarray(off, off + run), o);
    else for (let k = 0; k < run; k++) outVals[o + k] = xVals[off + k] as number;
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

const replaced = new Map<string, KernelConfig>();

/** Puts the copying-only Slice and SplitV in front of wasm's own (kept for strings). Idempotent. */
export function registerWasmSlice(): void {
  for (const [name, make] of [
    [tf.Slice, sliceKernel],
    [tf.SplitV, splitVKernel],
  ] as const) {
    const current = tf.getKernel(name, BACKEND);
    if (current === undefined || current === replaced.get(name)) continue;
    const config: KernelConfig = { kernelName: name, backendName: BACKEND, kernelFunc: make(current.kernelFunc) };
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(config);
    replaced.set(name, config);
  }
}
