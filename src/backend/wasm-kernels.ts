/**
 * Every kernel typed-flows adds to or puts in front of the `wasm` backend (tfjs-backend-wasm 4.22),
 * registered in one call. `selectBackend` calls it when it picks wasm, and so does the playground;
 * anyone who calls `tf.setBackend('wasm')` directly should call it afterwards. Each kernel is checked
 * against the cpu backend in test/wasm-*.test.ts, and the gains are measured in bench/.
 *
 * Browser-safe: no Node imports.
 */
import { registerWasmConcat } from './wasm-concat.js';
import { registerWasmConvGradients } from './wasm-conv-gradients.js';
import { registerWasmIdentity } from './wasm-identity.js';
import { registerWasmMatMul } from './wasm-matmul.js';
import { registerWasmSegmentSum } from './wasm-segment-sum.js';
import { registerWasmSlice } from './wasm-slice.js';

/** Registers all of them. Idempotent. */
export function registerWasmKernels(): void {
  registerWasmConvGradients();
  registerWasmSlice();
  registerWasmConcat();
  registerWasmIdentity();
  registerWasmMatMul();
  registerWasmSegmentSum();
}
