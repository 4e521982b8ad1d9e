// The library core: browser-safe (no Node-only imports). Backends and the CLI live in src/backend, src/cli.
export * from './dsl/index.js';
export * from './interpreters/index.js';
export * from './layers/index.js';
export * from './caflow/index.js';
export * from './training/index.js';
export * from './io/index.js';
// The checkpoint form (a spec or shapes; mismatches as CheckpointError) is the one the package root exports.
export { paramsFromFlat } from './io/index.js';
// Distributions under their own name: their `sample` and `init` differ from CAFLOW's and the flows'.
export * as distributions from './distributions/index.js';
