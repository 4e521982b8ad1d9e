// Node-side backend selection (edge module: may use Node APIs), and the browser-safe wasm conv gradients.
export * from './select.js';
export { registerWasmConvGradients } from './wasm-conv-gradients.js';
