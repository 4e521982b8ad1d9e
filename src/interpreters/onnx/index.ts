export { toOnnx, lowerFlow, tensorDims, namesOf, BATCH, type ToOnnxOptions } from './flow.js';
export { OnnxExportError } from './errors.js';
export { Graph, type GraphData } from './graph.js';
export { encodeModel, OPSET, IR_VERSION } from './encode.js';
export { lowerings, type ContextValues, type LoweringOptions } from './lowerings.js';
