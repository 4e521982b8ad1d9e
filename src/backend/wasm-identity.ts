/**
 * Identity for the `wasm` backend that shares the input's data instead of copying it. tfjs's autodiff
 * clones (Identity) every tensor it saves for the backward pass: about 1,300 times in a CAFLOW
 * training step. wasm's own Identity allocates and copies each one; the cpu and webgl backends
 * only add a reference, which is safe because tfjs tensors are immutable (even `Variable.assign`
 * swaps the data rather than writing into it). This one adds a reference too, as wasm's own Reshape
 * already does. Strings fall back to wasm's own kernel.
 *
 * Browser-safe: no Node imports.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc } from '@tensorflow/tfjs';
import { asWasmHeap, replaceWasmKernel } from './wasm-kernel-registry.js';

const identityKernel =
  (original: KernelFunc): KernelFunc =>
  (args) => {
    const x = args.inputs['x'];
    if (x === undefined || x.dtype === 'string') return original(args);
    asWasmHeap(args.backend).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };

/** Puts the sharing Identity in front of wasm's own (kept for strings). Idempotent. */
export function registerWasmIdentity(): void {
  replaceWasmKernel(tf.Identity, identityKernel);
}
