/**
 * CAFLOW checkpoints: the model spec (JSON), the { R, T, G } parameters, Adam's moments and step, the
 * training step and the run's config, in one safetensors file (format: docs/checkpoints.md).
 * Loading validates the spec and every tensor against the model the caller expects.
 *
 * A *model file* is the same format without the optimizer slots: what inference (eval, sampling, the
 * browser playground) needs, at a third of the size.
 */
import * as E from 'fp-ts/lib/Either.js';
import type * as tf from '@tensorflow/tfjs';
import { decodeSpec } from '../dsl/codec.js';
import type { FlowSpec } from '../dsl/spec.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, paramsFromFlat } from '../io/checkpoint.js';
import { paramInfo, paramShapes } from '../interpreters/param-shapes.js';
import type { ParamTree, ShapeTree } from '../dsl/params.js';
import type { AdamState } from '../training/adam.js';
import type { CaflowSpec } from './model.js';
import type { CaflowParams } from './params.js';

/** The parameter shapes of a CAFLOW model, as the `{ R, T, G: [G_0..G_{n-1}] }` tree its params take. */
export const caflowShapeTree = (m: CaflowSpec): ShapeTree => ({
  R: paramShapes(m.encoderY),
  T: paramShapes(m.encoderW),
  G: m.priors.map(paramShapes),
});

/** Every parameter of a CAFLOW model with its dotted path in the `{ R, T, G }` tree (`R.0.bias`, `G.1.3.logScale`) and shape. */
export const caflowParamInfo = (m: CaflowSpec): Array<{ path: string; shape: readonly number[] }> => [
  ...paramInfo(m.encoderY, 'R'),
  ...paramInfo(m.encoderW, 'T'),
  ...m.priors.flatMap((g, i) => paramInfo(g, `G.${i}`)),
];

/** Decodes a CaflowSpec from JSON, checking each of its flows; issues name their path. */
export const decodeCaflowSpec = (json: unknown): CaflowSpec => {
  const problems: string[] = [];
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (o['kind'] !== 'caflow') problems.push(`$.kind: expected 'caflow', got ${JSON.stringify(o['kind'])}`);
  if (o['variant'] !== 'caflow' && o['variant'] !== 'dualglow') problems.push(`$.variant: expected 'caflow' or 'dualglow', got ${JSON.stringify(o['variant'])}`);
  if (typeof o['lambda'] !== 'number') problems.push(`$.lambda: expected a number, got ${JSON.stringify(o['lambda'])}`);
  const flow = (value: unknown, path: string): FlowSpec | undefined => {
    const r = decodeSpec(value);
    if (E.isRight(r)) return r.right;
    problems.push(...r.left.map((i) => `${path}${i.path.slice(1)}: ${i.message}`));
    return undefined;
  };
  const encoderY = flow(o['encoderY'], '$.encoderY');
  const encoderW = flow(o['encoderW'], '$.encoderW');
  const priors = Array.isArray(o['priors']) ? o['priors'].map((p, i) => flow(p, `$.priors[${i}]`)) : (problems.push('$.priors: expected an array of flows'), []);
  if (problems.length > 0 || encoderY === undefined || encoderW === undefined || priors.some((p) => p === undefined)) {
    throw new CheckpointError('the checkpoint does not hold a valid CAFLOW model', problems);
  }
  return { kind: 'caflow', variant: o['variant'] as CaflowSpec['variant'], lambda: o['lambda'] as number, encoderY, encoderW, priors: priors as FlowSpec[] };
};

/** One training step's loss. */
export interface LossRecord {
  readonly step: number;
  readonly loss: number;
}

/** A CAFLOW training checkpoint: the model spec, its parameters, Adam's state, the step and the run's config. */
export interface CaflowCheckpoint {
  readonly model: CaflowSpec;
  readonly params: CaflowParams;
  readonly adam: AdamState;
  /** Training steps taken (skipped ones included). */
  readonly step: number;
  readonly config: unknown;
  /**
   * The losses of the steps up to `step` (skipped steps have none), kept in the checkpoint so that a
   * crash can never separate them from the weights they led to; absent in checkpoints of earlier versions.
   */
  readonly history?: readonly LossRecord[];
}

/** History as stored in the metadata: [step, loss] pairs. */
const encodeHistory = (h: readonly LossRecord[]): Array<[number, number]> => h.map((r) => [r.step, r.loss]);
const decodeHistory = (u: unknown): LossRecord[] | undefined =>
  Array.isArray(u)
    ? u.flatMap((r) => (Array.isArray(r) && typeof r[0] === 'number' && typeof r[1] === 'number' ? [{ step: r[0], loss: r[1] }] : []))
    : undefined;

/** A CAFLOW checkpoint as the bytes of one safetensors file (format: docs/checkpoints.md). */
export const encodeCaflowCheckpoint = (c: CaflowCheckpoint): Promise<Uint8Array> =>
  encodeCheckpoint({
    specJson: JSON.stringify(c.model),
    params: c.params as ParamTree,
    optimizer: { m: c.adam.m, v: c.adam.v },
    step: c.step,
    config: { run: c.config ?? null, adamStep: c.adam.step, ...(c.history === undefined ? {} : { history: encodeHistory(c.history) }) },
  });

/** A trained model without optimizer state: enough to evaluate and sample, not to resume training. */
export type CaflowModelFile = Omit<CaflowCheckpoint, 'adam'>;

/** Encodes the parameters only (no optimizer slots). The run config and step are kept as metadata. */
export const encodeCaflowModel = (c: CaflowModelFile): Promise<Uint8Array> =>
  encodeCheckpoint({ specJson: JSON.stringify(c.model), params: c.params as ParamTree, step: c.step, config: { run: c.config ?? null } });

/**
 * Decodes a model file or a full checkpoint (its optimizer slots, if any, are released unread); with
 * `expected`, the stored model must equal it. The returned tensors belong to the caller.
 */
export const decodeCaflowModel = (bytes: Uint8Array, expected?: CaflowSpec): CaflowModelFile => {
  const ckpt = decodeCheckpoint(
    bytes,
    expected === undefined ? undefined : { specJson: JSON.stringify(expected), paramInfo: caflowParamInfo(expected) },
  );
  for (const slot of ckpt.optimizer.values()) for (const t of slot.values()) t.dispose();
  let model: CaflowSpec;
  let params: CaflowParams;
  try {
    model = decodeCaflowSpec(JSON.parse(ckpt.specJson));
    params = paramsFromFlat(caflowShapeTree(model), ckpt.params) as CaflowParams;
  } catch (e) {
    for (const t of ckpt.params.values()) t.dispose();
    throw e;
  }
  const meta = (ckpt.config ?? {}) as { run?: unknown };
  return { model, params, step: ckpt.step, config: meta.run ?? null };
};

/**
 * Decodes a checkpoint; with `expected`, the stored model must equal it (every difference listed).
 * The returned tensors belong to the caller.
 */
export const decodeCaflowCheckpoint = (bytes: Uint8Array, expected?: CaflowSpec): CaflowCheckpoint => {
  const ckpt = decodeCheckpoint(
    bytes,
    expected === undefined ? undefined : { specJson: JSON.stringify(expected), paramInfo: caflowParamInfo(expected) },
  );
  const model = decodeCaflowSpec(JSON.parse(ckpt.specJson));
  const shapes = caflowShapeTree(model);
  const params = paramsFromFlat(shapes, ckpt.params) as CaflowParams;
  const slot = (name: string): ParamTree => {
    const flat = ckpt.optimizer.get(name);
    if (flat === undefined) throw new CheckpointError(`the checkpoint has no optimizer slot '${name}': it cannot resume training`);
    // Adam's moments are float32 like the parameters they follow.
    const wrong = [...flat].filter(([, t]) => t.dtype !== 'float32').map(([path, t]) => `optimizer.${name}.${path}: dtype ${t.dtype}, expected float32`);
    if (wrong.length > 0) {
      for (const slotFlat of ckpt.optimizer.values()) for (const t of slotFlat.values()) t.dispose();
      for (const t of ckpt.params.values()) t.dispose();
      throw new CheckpointError(`the checkpoint's optimizer slot '${name}' does not match the model`, wrong);
    }
    return paramsFromFlat(shapes, flat as Map<string, tf.Tensor>);
  };
  const meta = (ckpt.config ?? {}) as { run?: unknown; adamStep?: unknown; history?: unknown };
  const adamStep = typeof meta.adamStep === 'number' ? meta.adamStep : ckpt.step;
  const history = decodeHistory(meta.history);
  return {
    model,
    params,
    adam: { step: adamStep, m: slot('m'), v: slot('v') },
    step: ckpt.step,
    config: meta.run ?? null,
    ...(history === undefined ? {} : { history }),
  };
};
