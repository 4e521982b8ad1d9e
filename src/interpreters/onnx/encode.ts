/**
 * GraphData -> ONNX ModelProto bytes (opset 17, IR version 8) with the protobuf messages of
 * `onnx-proto`. Weights are stored as raw little-endian bytes.
 */
import onnxProto from 'onnx-proto';
import type { Attribute, Dim, GraphData, Initializer, ValueInfo } from './graph.js';

const { onnx } = onnxProto;

export const OPSET = 17;
/** The IR version that goes with opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;

const bytesOf = (data: Float32Array | BigInt64Array): Uint8Array => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

const tensorProto = (t: Initializer): onnxProto.onnx.ITensorProto => ({ name: t.name, dataType: t.type, dims: [...t.dims], rawData: bytesOf(t.data) });

const attributeProto = (name: string, a: Attribute): onnxProto.onnx.IAttributeProto => {
  const A = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: A.INT, i: a.value };
    case 'ints':
      return { name, type: A.INTS, ints: [...a.value] };
    case 'float':
      return { name, type: A.FLOAT, f: a.value };
    case 'string':
      return { name, type: A.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name, type: A.TENSOR, t: tensorProto(a.value) };
  }
};

const dimProto = (d: Dim): onnxProto.onnx.TensorShapeProto.IDimension => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });

const valueInfo = (v: ValueInfo): onnxProto.onnx.IValueInfoProto => ({
  name: v.name,
  type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: v.dims.map(dimProto) } } },
});

export interface ModelMetadata {
  readonly docString?: string;
  /** Key-value pairs stored in the model (metadata_props). */
  readonly props?: { readonly [key: string]: string };
}

export const encodeModel = (graph: GraphData, meta: ModelMetadata = {}): Uint8Array => {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'typed-flows',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: OPSET }],
    docString: meta.docString ?? '',
    metadataProps: Object.entries(meta.props ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node: graph.nodes.map((n) => ({
        name: n.name,
        opType: n.op,
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attributes).map(([k, a]) => attributeProto(k, a)),
      })),
      initializer: graph.initializers.map(tensorProto),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(model).finish();
};
