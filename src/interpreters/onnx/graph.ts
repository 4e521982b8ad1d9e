/**
 * A tiny ONNX graph builder: nodes, named inputs and outputs, initializers (weights and constants).
 * Values are referred to by name; every node output gets a fresh name. The graph is plain data until
 * `encode.ts` turns it into protobuf bytes, so this module has no dependency beyond the language.
 */

/** ONNX element types used here (onnx.TensorProto.DataType). */
export const FLOAT = 1;
export const INT64 = 7;
export const BOOL = 9;

/** A dimension: fixed, or symbolic (the batch). */
export type Dim = number | string;

export type Attribute =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'tensor'; readonly value: Initializer };

export interface GraphNode {
  readonly op: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: { readonly [name: string]: Attribute };
}

export interface Initializer {
  readonly name: string;
  readonly type: typeof FLOAT | typeof INT64;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

export interface ValueInfo {
  readonly name: string;
  readonly dims: readonly Dim[];
}

export interface GraphData {
  readonly name: string;
  readonly nodes: readonly GraphNode[];
  readonly initializers: readonly Initializer[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
}

/** Attributes given as plain values: integers, integer lists, floats (marked with `float`), strings (marked with `string`). */
export type Attrs = {
  readonly [name: string]: number | readonly number[] | { readonly float: number } | { readonly string: string } | { readonly tensor: Initializer };
};

const toAttribute = (v: Attrs[string]): Attribute =>
  typeof v === 'number'
    ? { kind: 'int', value: v }
    : Array.isArray(v)
      ? { kind: 'ints', value: v as readonly number[] }
      : 'float' in (v as object)
        ? { kind: 'float', value: (v as { float: number }).float }
        : 'string' in (v as object)
          ? { kind: 'string', value: (v as { string: string }).string }
          : { kind: 'tensor', value: (v as { tensor: Initializer }).tensor };

export class Graph {
  private readonly nodes: GraphNode[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly constants = new Map<string, string>();
  private readonly taken = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A name not used yet, from a readable stem. */
  fresh(stem: string): string {
    let name = stem;
    while (this.taken.has(name)) name = `${stem}_${++this.counter}`;
    this.taken.add(name);
    return name;
  }

  input(name: string, dims: readonly Dim[]): string {
    if (this.taken.has(name)) throw new Error(`ONNX graph: the input name '${name}' is used twice`);
    this.taken.add(name);
    this.inputs.push({ name, dims });
    return name;
  }

  /** Makes `value` a graph output called `name` (through an Identity, so names never clash). */
  output(name: string, value: string, dims: readonly Dim[]): void {
    if (this.taken.has(name)) throw new Error(`ONNX graph: the output name '${name}' is used twice`);
    this.taken.add(name);
    this.nodes.push({ op: 'Identity', name: `${name}_out`, inputs: [value], outputs: [name], attributes: {} });
    this.outputs.push({ name, dims });
  }

  /** One node with `n` outputs. */
  nodeN(op: string, inputs: readonly string[], n: number, attrs: Attrs = {}): string[] {
    const outputs = Array.from({ length: n }, () => this.fresh(`${op}`));
    const attributes = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, toAttribute(v)]));
    this.nodes.push({ op, name: this.fresh(`n_${op}`), inputs, outputs, attributes });
    return outputs;
  }

  /** One node with one output. */
  op(op: string, inputs: readonly string[], attrs: Attrs = {}): string {
    return this.nodeN(op, inputs, 1, attrs)[0] as string;
  }

  /** A float initializer (weights), named after `stem`. */
  floats(stem: string, data: Float32Array, dims: readonly number[]): string {
    const name = this.fresh(stem);
    this.initializers.push({ name, type: FLOAT, dims, data });
    return name;
  }

  /** The values of a float initializer (a weight or constant), or undefined for a computed value. */
  floatsOf(name: string): { readonly data: Float32Array; readonly dims: readonly number[] } | undefined {
    const init = this.initializers.find((i) => i.name === name);
    return init !== undefined && init.data instanceof Float32Array ? { data: init.data, dims: init.dims } : undefined;
  }

  /** A float scalar constant (shared between uses). */
  scalar(value: number): string {
    const key = `f:${Object.is(value, -0) ? '-0' : value}`;
    const hit = this.constants.get(key);
    if (hit !== undefined) return hit;
    const name = this.floats('c', Float32Array.of(value), []);
    this.constants.set(key, name);
    return name;
  }

  /** An int64 vector constant (axes, shapes, split sizes), shared between uses. */
  ints(values: readonly number[]): string {
    const key = `i:${values.join(',')}`;
    const hit = this.constants.get(key);
    if (hit !== undefined) return hit;
    const name = this.fresh('ints');
    this.initializers.push({ name, type: INT64, dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    this.constants.set(key, name);
    return name;
  }

  /** An int64 scalar constant (Range's bounds). */
  intScalar(value: number): string {
    const key = `s:${value}`;
    const hit = this.constants.get(key);
    if (hit !== undefined) return hit;
    const name = this.fresh('int');
    this.initializers.push({ name, type: INT64, dims: [], data: BigInt64Array.of(BigInt(value)) });
    this.constants.set(key, name);
    return name;
  }

  /**
   * The graph without the nodes and initializers no output depends on (a value built but not used,
   * such as the channels-last copy of a convolution's output that only feeds the next convolution).
   */
  data(): GraphData {
    const live = new Set(this.outputs.map((o) => o.name));
    const nodes: GraphNode[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i] as GraphNode;
      if (!node.outputs.some((o) => live.has(o))) continue;
      nodes.push(node);
      for (const input of node.inputs) live.add(input);
    }
    return {
      name: this.name,
      nodes: nodes.reverse(),
      initializers: this.initializers.filter((t) => live.has(t.name)),
      inputs: [...this.inputs],
      outputs: [...this.outputs],
    };
  }
}
