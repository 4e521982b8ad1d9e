/**
 * Identity for the `wasm` backend that shares the input's data instead of copying it. tfjs's autodiff
 * clones (Identity) every tensor it saves for the backward pass: about 1,300 times in a CAFLOW
 * training step. wasm's own Identity allocates and copies each one; the cpu and webgl backends
 * only add a reference, which is safe because tfjs tensors are immutable (even `Variable.assign`
 * swaps the data rather than writing into it). This one adds a reference too, as wasm's own Reshape
 * already does. A Cast to the dtype the tensor already has is the same identity, and wasm's Cast
 * copied it too: tfjs's Multiply gradient casts both operands to float32, ~220 copies per CAFLOW step.
 * Real casts are done here as well, because wasm's are wrong for bool: it stores the raw value in a
 * byte, so casting [-2.7, 0.5] to bool gave [254, 0] where the cpu backend gives [1, 1].
 * Strings go to wasm's own kernels.
 *
 * Browser-safe: no Node imports.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { asWasmHeap, replaceWasmKernel } from './wasm-kernel-registry.js';

/** x itself under a new reference, as wasm's own Reshape returns it. */
const shared = (x: TensorInfo, backend: object): TensorInfo => {
  asWasmHeap(backend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

const identityKernel =
  (original: KernelFunc): KernelFunc =>
  (args) => {
    const x = args.inputs['x'];
    return x === undefined || x.dtype === 'string' ? original(args) : shared(x, args.backend);
  };

/** Casts as tfjs's cpu backend does: to bool, non-zero is 1; to int32, truncation toward zero. */
const castKernel =
  (original: KernelFunc): KernelFunc =>
  (args) => {
    const x = args.inputs['x'];
    const { dtype } = args.attrs as { dtype?: tf.DataType };
    if (x === undefined || dtype === undefined || x.dtype === 'string' || dtype === 'string' || dtype === 'complex64') return original(args);
    if (x.dtype === dtype) return shared(x, args.backend);
    const heap = asWasmHeap(args.backend);
    const out = heap.makeOutput([...x.shape], dtype);
    // Views are taken after makeOutput, which may grow (and so replace) the heap's buffer.
    const from = heap.typedArrayFromHeap(x);
    const to = heap.typedArrayFromHeap(out);
    if (dtype === 'bool') for (let i = 0; i < from.length; i++) to[i] = from[i] !== 0 ? 1 : 0;
    else to.set(from); // float32 <- int32/bool is exact; Int32Array.set truncates toward zero
    return out;
  };

/** Puts the sharing Identity and same-dtype Cast in front of wasm's own. Idempotent. */
export function registerWasmIdentity(): void {
  replaceWasmKernel(tf.Identity, identityKernel);
  replaceWasmKernel(tf.Cast, castKernel);
}
