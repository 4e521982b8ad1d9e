/** The choices of `export --format` and `export --model --direction`, apart from the exporters so that `--help` lists them without loading tfjs. */

/** Formats of `export --name` besides the PyTorch folder. */
export const exportFormats = ['safetensors', 'onnx'] as const;
export type ExportFormat = (typeof exportFormats)[number];

/** The command line's spelling of a fitted distribution's graphs (lower case, like the other --direction values). */
export const distributionDirections = ['logprob', 'sample'] as const;
export type DistributionDirection = (typeof distributionDirections)[number];
