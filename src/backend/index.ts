// Node-side backend selection (edge module: may use Node APIs), and the browser-safe wasm kernels.
export * from './select.js';
export { silenceCpuBanner } from './quiet.js';
export { registerWasmKernels } from './wasm-kernels.js';
export { registerWasmConcat } from './wasm-concat.js';
export { registerWasmIdentity } from './wasm-identity.js';
export { registerWasmMatMul } from './wasm-matmul.js';
export { registerWasmConvGradients } from './wasm-conv-gradients.js';
export { registerWasmSlice } from './wasm-slice.js';
