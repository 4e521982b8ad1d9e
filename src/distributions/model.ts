/**
 * A fitted distribution as one safetensors file (the checkpoint format of src/io/checkpoint.ts):
 * metadata "spec" holds the distribution's JSON (`encodeDistribution`), tensors are
 * `params.<path>` with the paths of `distributionParamInfo` ("params.flow.0.logScale",
 * "params.base.0.mean"). `typed-flows fit` writes this. Browser-safe.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { ParamTree } from '../dsl/params.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, paramsFromFlat } from '../io/checkpoint.js';
import { encodeDistribution, parseDistribution } from './codec.js';
import { distributionParamShapes } from './interpret.js';
import type { AnyDistribution, DistributionSpec } from './spec.js';

/** A distribution, its parameters and its stored config, as read from or written to one safetensors file. */
export interface DistributionModel {
  readonly dist: AnyDistribution;
  readonly params: ParamTree;
  /** The free-form config stored with it (fit's options and results), or undefined. */
  readonly config: unknown;
  readonly step: number;
}

/** The model file's bytes. */
export const encodeDistributionModel = (m: { readonly dist: DistributionSpec; readonly params: ParamTree; readonly step?: number; readonly config?: unknown }): Promise<Uint8Array> =>
  encodeCheckpoint({ specJson: encodeDistribution(m.dist), params: m.params, step: m.step ?? 0, ...(m.config === undefined ? {} : { config: m.config }) });

/** Decodes a model file; throws a CheckpointError when it is not one or its tensors do not fit the spec. */
export const decodeDistributionModel = (bytes: Uint8Array): DistributionModel => {
  const ckpt = decodeCheckpoint(bytes);
  const dist = parseDistribution(ckpt.specJson);
  if (E.isLeft(dist)) {
    for (const t of ckpt.params.values()) t.dispose();
    throw new CheckpointError('not a distribution model: its spec does not decode', dist.left.map((i) => `${i.path}: ${i.message}`));
  }
  try {
    return { dist: dist.right as AnyDistribution, params: paramsFromFlat(distributionParamShapes(dist.right), ckpt.params), config: ckpt.config, step: ckpt.step };
  } catch (e) {
    for (const t of ckpt.params.values()) t.dispose();
    throw e;
  }
};
