// Node-only file helpers (an "edge" module): atomic checkpoint files. Imported as 'typed-flows/node'.
export { writeCheckpointFile, readCheckpointFile, type CheckpointBytes } from './checkpoint-file.js';
export { removeStaleTemporaries, type RemovedTemporaries } from './temp-files.js';
export { onnxSession, loadOnnxRuntime, OnnxRuntimeMissingError, type OnnxSession, type FloatArray, type SessionOptions } from './onnx-runtime.js';
export { onnxCaflow, type OnnxCaflow, type OnnxSamples } from './caflow-onnx.js';
export { renderFigure, writeFigure, figureSvg, svgBeside, type RenderedFigure } from './figure.js';
export { writeSampleGrid, gridTitle } from './sample-grid.js';
