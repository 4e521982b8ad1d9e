/** The graphs a CAFLOW model exports to ONNX (src/caflow/onnx.ts), in a module of their own so the command line lists them without loading the exporter. */
export type CaflowDirection = 'forward' | 'inverse' | 'sample' | 'likelihood';
export const caflowDirections: readonly CaflowDirection[] = ['forward', 'inverse', 'sample', 'likelihood'];
