// Node-side backend selection (edge module: may use Node APIs).
export * from './select.js';
