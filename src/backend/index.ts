// Node-side backend selection (edge module: may use Node APIs), and the browser-safe wasm kernels.
export * from './select.js';
export { registerWasmConvGradients } from './wasm-conv-gradients.js';
export { registerWasmSlice } from './wasm-slice.js';
