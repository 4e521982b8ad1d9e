/**
 * The ONNX engine's one table of overrides: kinds lowered by hand rather than by running their maths
 * on the op algebra (src/interpreters/onnx/primitive.ts). A kind is here only while its definition
 * has no `algebra`, or when it is listed in `keptForSpeed` with the reason (test/engines/onnx-flows.test.ts
 * fails on a stale entry); every kind here has its parity rows in test/engines/onnx-flows.test.ts.
 *
 * inv1x1LU: its tfjs passes are a listed tfjs override too (src/algebra/overrides.ts: the inverse
 * reuses a float64 W^-1 cached per set of factor tensors). Here W = P L (U + diag(sign exp(logS))) and
 * W^-1 are computed at export in float64, with the same routines as the tfjs passes, and each pass is
 * one MatMul over the channels with a constant log-det.
 */
import type * as tf from '@tensorflow/tfjs';
import { inv1x1LUWeight } from '../../dsl/bijectors/inv1x1-lu.js';
import { inverseMatrixOf } from '../../dsl/maths/channel-mix.js';
import { joinParamPath } from '../../dsl/params.js';
import type { PrimitiveKind } from '../../dsl/registry.js';
import { sizeOf, spatialOf, type Shape } from '../../dsl/shape.js';
import type { Graph } from './graph.js';
import { constantLogDet, type LogDet } from './logdet.js';
import { atOf, input, type Lowered, type Overrides } from './lowering.js';
import { computed, recordAt, sum, tensorAt, transposed, valuesOf, type At } from './weights.js';

/**
 * Kinds whose override is kept although their definition has `algebra`, each with the reason (a
 * fused or export-time form that the generic lowering would lose); none so far.
 */
export const keptForSpeed: { readonly [K in PrimitiveKind]?: string } = {};

const singleOutput = (out: string, logDet: LogDet): Lowered => ({ outs: [out], result: logDet });

const positions = (shape: Shape): number => sizeOf(spatialOf(shape));

/** x W^T at every position (W [C, C] row-major): the channel mixing as one MatMul. */
const mix = (g: Graph, x: string, w: Float32Array, c: number, at: At, what: string): string =>
  g.op('MatMul', [x, g.floats(joinParamPath(at.paramPath, what), transposed(w, c, c), [c, c])]);

/** The kinds lowered by hand: those whose definitions have no maths on the op algebra. */
export const overrides: Overrides = {
  inv1x1LU: (spec, node, { g }) => {
    const at = atOf(node);
    const p = recordAt(node.params, at);
    const c = spec.shape[0] as number;
    const logDet = positions(spec.shape) * sum(valuesOf(tensorAt(p, 'logS', at)));
    if (node.dir === 'forward') return singleOutput(mix(g, input(node), computed(() => inv1x1LUWeight(p, c)), c, at, 'weight'), constantLogDet(logDet));
    const keys: tf.Tensor[] = ['lower', 'upper', 'logS', 'permutation', 'sign'].map((k) => tensorAt(p, k, at));
    return singleOutput(mix(g, input(node), computed(() => inverseMatrixOf(keys, () => inv1x1LUWeight(p, c), c)), c, at, 'inverseWeight'), constantLogDet(-logDet));
  },
};
