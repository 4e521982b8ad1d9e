export { toOnnx, lowerFlow, tensorDims, namesOf, BATCH, type ToOnnxOptions } from './flow.js';
export { OnnxExportError } from './errors.js';
export { Graph, type GraphData } from './graph.js';
export { encodeModel, OPSET, IR_VERSION } from './encode.js';
export { lowerings, spaceToDepth, depthToSpace, type ContextValues, type LoweringOptions } from './lowerings.js';
export { total, sumLogDets, type LogDet } from './logdet.js';
export * as onnxOps from './ops.js';
