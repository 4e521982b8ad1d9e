/**
 * One primitive layer as ONNX nodes. A kind whose definition has maths on the op algebra
 * (`definition.algebra`, src/dsl/definition.ts) is lowered by running that maths with the ONNX engine
 * of the algebra (./graph-ops.ts): the exporter needs no code of its own for it. The other kinds, and
 * those kept for speed, are lowered by their entry in the table of overrides (./overrides.ts); a kind
 * with neither is refused with an OnnxExportError naming its spec path.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { AlgebraBijector, Context } from '../../algebra/ops.js';
import type { BijectorDefinition } from '../../dsl/definition.js';
import type { Node } from '../../dsl/fold.js';
import { definitionOf, type PrimitiveSpec } from '../../dsl/registry.js';
import { OnnxExportError } from './errors.js';
import { graphOps } from './graph-ops.js';
import { tensorLogDet } from './logdet.js';
import { atOf, conditionValue, type KindLowering, type Lowered, type LoweringEnv, type Overrides } from './lowering.js';
import { keptForSpeed, overrides } from './overrides.js';
import { paramValues } from './param-values.js';

/** Where a lowering comes from: the tables it is chosen from (the real ones unless a test says otherwise). */
export interface LoweringSources {
  readonly overrides: Overrides;
  readonly keptForSpeed: { readonly [kind: string]: string };
  readonly definitionOf: (spec: PrimitiveSpec) => Pick<BijectorDefinition<PrimitiveSpec>, 'algebra' | 'signature'>;
}

const sources: LoweringSources = { overrides, keptForSpeed, definitionOf };

/** The conditioning inputs the layer declares, checked to be inputs of the graph. */
const layerContext = (spec: PrimitiveSpec, node: Node<string>, env: LoweringEnv, definition: Pick<BijectorDefinition<PrimitiveSpec>, 'signature'>): Context<string> => {
  const sig = definition.signature(spec, node.path);
  if (E.isLeft(sig)) throw new OnnxExportError(node.path, sig.left.map((issue) => issue.message).join('; '));
  return Object.fromEntries(Object.keys(sig.right.cond).map((k) => [k, conditionValue(env.ctx, k, node.path)]));
};

/** The generic lowering: the layer's maths on the algebra, run with the ONNX engine. */
const onAlgebra = (
  algebra: AlgebraBijector<PrimitiveSpec>,
  spec: PrimitiveSpec,
  node: Node<string>,
  env: LoweringEnv,
  definition: Pick<BijectorDefinition<PrimitiveSpec>, 'signature'>,
): Lowered => {
  const o = graphOps(env.g, { path: node.path, pass: `the sequential ${node.dir} of a ${spec.kind} layer`, maxUnroll: env.options.maxUnroll });
  const maths = node.dir === 'forward' ? algebra.forward : algebra.inverse;
  const ins = node.ins;
  if (ins === undefined) throw new OnnxExportError(node.path, 'expected the input values of this layer');
  try {
    const { outs, logDet } = maths(o, spec, paramValues(env.g, node.params, atOf(node)), ins, layerContext(spec, node, env, definition));
    return { outs, result: tensorLogDet(logDet) };
  } catch (e) {
    // A parameter the maths asks for and the tree lacks (`param`, `branch`): name the layer.
    if (e instanceof TypeError && e.message.startsWith('expected a parameter')) throw new OnnxExportError(node.path, `${e.message} (parameters at '${node.paramPath}')`);
    throw e;
  }
};

/** The fold table's primitive entry of the ONNX exporter, adding nodes to `env.g`. */
export const lowerPrimitive =
  (env: LoweringEnv, from: LoweringSources = sources) =>
  (spec: PrimitiveSpec, node: Node<string>): Lowered => {
    const definition = from.definitionOf(spec);
    const override = from.overrides[spec.kind] as KindLowering<PrimitiveSpec['kind']> | undefined;
    const algebra = definition.algebra;
    if (override !== undefined && (algebra === undefined || from.keptForSpeed[spec.kind] !== undefined)) return override(spec as never, node, env);
    if (algebra !== undefined) return onAlgebra(algebra, spec, node, env, definition);
    throw new OnnxExportError(
      node.path,
      `the kind '${spec.kind}' cannot be exported to ONNX: its definition has no maths on the op algebra ('algebra') and the ONNX exporter has no override for it (src/interpreters/onnx/overrides.ts)`,
    );
  };
