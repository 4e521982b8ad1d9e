/** The graphs a CAFLOW model exports to ONNX (src/caflow/onnx.ts), in a module of their own so the command line lists them without loading the exporter. */

/** Which CAFLOW graph to export: W, Y -> latents (forward), latents, Y -> W (inverse), Y + noise -> ranked samples (sample), W, Y -> log p(W|Y) (likelihood). */
export type CaflowDirection = 'forward' | 'inverse' | 'sample' | 'likelihood';
/** Every {@link CaflowDirection}, in the order the command line lists them. */
export const caflowDirections: readonly CaflowDirection[] = ['forward', 'inverse', 'sample', 'likelihood'];
