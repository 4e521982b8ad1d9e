/** A spec, or a part of it, that the ONNX exporter cannot lower: the message names the spec path. */
export class OnnxExportError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'OnnxExportError';
  }
}
