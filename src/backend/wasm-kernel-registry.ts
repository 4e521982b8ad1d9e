/**
 * What the replacement kernels for the `wasm` backend share: the two BackendWasm methods that give
 * a view of a tensor in the module's heap, and an idempotent way to put a kernel in front of wasm's
 * own while keeping the original for the cases it still serves.
 *
 * Browser-safe: no Node imports (the playground registers these kernels too).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

export const WASM_BACKEND = 'wasm';

/** The methods of tfjs-backend-wasm's BackendWasm that read and write tensors in place. */
export interface WasmHeap extends KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** kernelFunc's backend is typed `{}`; these kernels only ever run on BackendWasm. */
export const asWasmHeap = (b: object): WasmHeap => {
  if (!('makeOutput' in b) || !('typedArrayFromHeap' in b) || !('incRef' in b)) {
    throw new Error('typed-flows: this kernel needs the tfjs wasm backend');
  }
  return b as WasmHeap;
};

const replaced = new Map<string, KernelConfig>();
/** wasm's own kernel for each one replaced, for `useStockWasmKernels`. */
const originals = new Map<string, KernelConfig>();

/**
 * Registers `wrap(original)` for `kernelName` on wasm in place of the kernel registered now, unless
 * ours is already there. Returns whether it replaced anything (false when wasm lacks the kernel:
 * nothing to wrap).
 */
export function replaceWasmKernel(kernelName: string, wrap: (original: KernelFunc) => KernelFunc): boolean {
  const current = tf.getKernel(kernelName, WASM_BACKEND);
  if (current === undefined) return false;
  if (current === replaced.get(kernelName)) return true;
  const config: KernelConfig = { ...current, kernelFunc: wrap(current.kernelFunc) };
  tf.unregisterKernel(kernelName, WASM_BACKEND);
  tf.registerKernel(config);
  replaced.set(kernelName, config);
  originals.set(kernelName, current);
  return true;
}

/** wasm's own kernel that `replaceWasmKernel` put ours in front of (for benchmarks); undefined if none. */
export const originalWasmKernel = (kernelName: string): KernelConfig | undefined => originals.get(kernelName);

/**
 * Puts wasm's own kernels back in place of every one `replaceWasmKernel` replaced (true), or ours
 * again (false). For before/after benchmarks (bench/wasm-kernels.ts) and tests; a no-op for kernels
 * never replaced.
 */
export function useStockWasmKernels(stock: boolean): void {
  for (const [name, original] of originals) {
    const wanted = stock ? original : replaced.get(name);
    if (wanted === undefined || tf.getKernel(name, WASM_BACKEND) === wanted) continue;
    tf.unregisterKernel(name, WASM_BACKEND);
    tf.registerKernel(wanted);
  }
}

/** Row-major strides, one per dimension. */
export const stridesOf = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
};

/**
 * Runs below which copying element by element beats `set(subarray(...))`: a subarray is an object
 * allocation, which costs more than copying a few dozen floats.
 */
const SHORT_RUN = 64;

type HeapArray = Float32Array | Int32Array | Uint8Array;

/**
 * `count` runs of `run` elements: run j goes from src[srcAt + j*srcStride ..] to dst[dstAt + j*dstStride ..].
 * The one copy loop of the Slice, SplitV and Concat kernels, with no call or subarray per short run:
 * splitting [8,16,16,12] into halves (2,048 runs of 6 floats each) took 0.10 ms, against 0.14 ms
 * with a helper call per run and 0.49 ms in wasm's own SplitV.
 */
export const copyRuns = (dst: HeapArray, dstAt: number, dstStride: number, src: HeapArray, srcAt: number, srcStride: number, count: number, run: number): void => {
  if (run >= SHORT_RUN) {
    for (let j = 0; j < count; j++) dst.set(src.subarray(srcAt + j * srcStride, srcAt + j * srcStride + run), dstAt + j * dstStride);
    return;
  }
  for (let j = 0; j < count; j++) {
    const s = srcAt + j * srcStride;
    const d = dstAt + j * dstStride;
    for (let k = 0; k < run; k++) dst[d + k] = src[s + k] as number;
  }
};
