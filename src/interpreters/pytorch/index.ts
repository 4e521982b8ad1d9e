export { toPyTorch, type ToPyTorchOptions } from './module.js';
export { PyTorchExportError, lowerFlow } from './emit.js';
export { loweringTable, type Lowered, type LoweringTable } from './lowerings.js';
export { caflowToPyTorch } from './caflow.js';
export { trainScript } from './train-script.js';
