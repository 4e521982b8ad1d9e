/**
 * Checkpoints: a spec, its parameters, optional optimizer state, the training step and a free-form
 * JSON config, in one safetensors file (see docs/checkpoints.md). Browser-safe: no Node imports.
 *
 * Tensor names are `params.<dotted path>` and `optimizer.<slot>.<dotted path>` with the dotted paths
 * of `flattenParams` ("3.net.conv0.kernel"); metadata holds `format`, `spec` (JSON text), `step` and
 * `config` (JSON text, absent when there is none).
 */
import * as tf from '@tensorflow/tfjs';
import { FlowSpecCodec, SPEC_FORMAT, encodeSpec, withoutFormatTag } from '../dsl/codec.js';
import { formatShape, sameShape } from '../dsl/shape.js';
import type { FlowSpec } from '../dsl/spec.js';
import { paramInfo, paramShapes } from '../interpreters/param-shapes.js';
import { flattenParams, ParamMismatchError, paramsFromFlat as treeFromFlat, type ParamTree, type ShapeTree } from '../dsl/params.js';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors.js';

export { CheckpointError } from './safetensors.js';

/** The `format` tag in a checkpoint's metadata. */
export const CHECKPOINT_FORMAT = 'typed-flows/checkpoint@1';

/** An optimizer's state: one parameter tree per slot (Adam's `m` and `v`). */
export type OptimizerState = { readonly [slot: string]: ParamTree };

interface CheckpointBody {
  readonly params: ParamTree;
  /** Per-slot trees (e.g. Adam's m and v) mirroring params; they may leave out frozen parameters. */
  readonly optimizer?: OptimizerState;
  /** Training step: a non-negative integer. */
  readonly step: number;
  /** Any JSON value (training options, data set name...). */
  readonly config?: unknown;
}

/** Give `spec` for a flow, or `specJson` (any JSON text) for a composite model. */
export type CheckpointInput = CheckpointBody & ({ readonly spec: FlowSpec; readonly specJson?: never } | { readonly specJson: string; readonly spec?: never });

/** A decoded checkpoint: the spec, step, config, parameters and optimizer slots, by dotted path. */
export interface Checkpoint {
  /** The spec as stored (JSON text); parse it with parseSpec/decodeSpecOrThrow for a flow. */
  readonly specJson: string;
  /** The training step it was saved at. */
  readonly step: number;
  /** The parsed config, or undefined when the checkpoint has none. */
  readonly config: unknown;
  /** Dotted path -> tensor; rebuild the tree with `paramsFromFlat(spec, params)`. */
  readonly params: Map<string, tf.Tensor>;
  /** Slot -> (dotted path -> tensor). */
  readonly optimizer: Map<string, Map<string, tf.Tensor>>;
  /** Every metadata entry of the file, including the keys above. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** What the caller expects a checkpoint to hold; loading fails on any difference. */
export interface ExpectedCheckpoint {
  /** The flow the caller is about to load into: its spec must equal the stored one (structurally). */
  readonly spec?: FlowSpec;
  /** For composite models: JSON text the stored spec must equal (structurally). */
  readonly specJson?: string;
  /** Parameters the checkpoint must hold exactly; defaults to paramInfo(spec) when `spec` is given. */
  readonly paramInfo?: ReadonlyArray<{ readonly path: string; readonly shape: readonly number[] }>;
}

const tensorName = (group: string, path: string): string => (path === '' ? group : `${group}.${path}`);

const toSafeTensor = async (name: string, t: tf.Tensor): Promise<SafeTensor> => {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new CheckpointError(`cannot save tensor "${name}": dtype ${t.dtype} (only float32 and int32 are stored)`);
  let data: tf.TypedArray;
  try {
    data = (await t.data()) as tf.TypedArray;
  } catch (e) {
    throw new CheckpointError(`cannot read tensor "${name}": ${e instanceof Error ? e.message : String(e)}`, [], { cause: e });
  }
  return t.dtype === 'float32'
    ? { dtype: 'F32', shape: t.shape, data: data instanceof Float32Array ? data : Float32Array.from(data) }
    : { dtype: 'I32', shape: t.shape, data: data instanceof Int32Array ? data : Int32Array.from(data) };
};

const stringifyJson = (what: string, value: unknown): string => {
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch (e) {
    throw new CheckpointError(`cannot save ${what}: not JSON-serialisable (${e instanceof Error ? e.message : String(e)})`, [], { cause: e });
  }
  if (s === undefined) throw new CheckpointError(`cannot save ${what}: not JSON-serialisable (${typeof value})`);
  return s;
};

/** Serialises a checkpoint to safetensors bytes. Reads every tensor with `await t.data()`; disposes nothing. */
export const encodeCheckpoint = async (ckpt: CheckpointInput): Promise<Uint8Array> => {
  let specJson: string;
  if (ckpt.spec !== undefined) specJson = encodeSpec(ckpt.spec);
  else if (typeof ckpt.specJson === 'string') {
    try {
      JSON.parse(ckpt.specJson);
    } catch (e) {
      throw new CheckpointError(`cannot save specJson: not valid JSON (${e instanceof Error ? e.message : String(e)})`, [], { cause: e });
    }
    specJson = ckpt.specJson;
  } else throw new CheckpointError('cannot save a checkpoint without spec or specJson');
  if (!Number.isSafeInteger(ckpt.step) || ckpt.step < 0) throw new CheckpointError(`cannot save step ${ckpt.step}: it must be a non-negative integer`);

  const named: Array<readonly [string, tf.Tensor]> = flattenParams(ckpt.params).map(([p, t]) => [tensorName('params', p), t]);
  for (const [slot, tree] of Object.entries(ckpt.optimizer ?? {})) {
    if (slot === '' || slot.includes('.')) throw new CheckpointError(`cannot save optimizer slot ${JSON.stringify(slot)}: slot names must be non-empty and contain no '.'`);
    named.push(...flattenParams(tree).map(([p, t]) => [tensorName(`optimizer.${slot}`, p), t] as const));
  }
  const tensors = await Promise.all(named.map(async ([name, t]) => [name, await toSafeTensor(name, t)] as const));

  // specFormat: the version of the spec format the stored spec (and any flows inside a composite one) are in.
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT, specFormat: SPEC_FORMAT, spec: specJson, step: String(ckpt.step) };
  if (ckpt.config !== undefined) metadata['config'] = stringifyJson('config', ckpt.config);
  return encodeSafetensors(tensors, metadata);
};

// ---------------------------------------------------------------------------------------------
// Decoding

const parseJson = (what: string, text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`not a valid checkpoint: metadata "${what}" is not valid JSON (${e instanceof Error ? e.message : String(e)})`, [], { cause: e });
  }
};

const showJson = (u: unknown): string => {
  const s = JSON.stringify(u) ?? String(u);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** Where two JSON values differ, as `$.steps[3].net.hidden: ...` lines (at most `limit`). */
const jsonDiff = (found: unknown, expected: unknown, path = '$', out: string[] = [], limit = 20): string[] => {
  if (out.length >= limit) return out;
  if (Array.isArray(found) && Array.isArray(expected)) {
    if (found.length !== expected.length) out.push(`${path}: ${found.length} entries in the checkpoint, expected ${expected.length}`);
    for (let i = 0; i < Math.min(found.length, expected.length); i++) jsonDiff(found[i], expected[i], `${path}[${i}]`, out, limit);
    return out;
  }
  const isObj = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);
  if (isObj(found) && isObj(expected)) {
    for (const k of new Set([...Object.keys(expected), ...Object.keys(found)])) {
      const p = `${path}.${k}`;
      if (!Object.hasOwn(found, k)) out.push(`${p}: missing in the checkpoint, expected ${showJson(expected[k])}`);
      else if (!Object.hasOwn(expected, k)) out.push(`${p}: ${showJson(found[k])} in the checkpoint, not expected`);
      else jsonDiff(found[k], expected[k], p, out, limit);
      if (out.length >= limit) break;
    }
    return out;
  }
  if (found !== expected) out.push(`${path}: ${showJson(found)} in the checkpoint, expected ${showJson(expected)}`);
  return out;
};

/** Splits a stored tensor name into its group ('params' or an optimizer slot) and dotted path. */
const parseName = (name: string): { slot?: string; path: string } | undefined => {
  if (name === 'params') return { path: '' };
  if (name.startsWith('params.')) return { path: name.slice('params.'.length) };
  if (!name.startsWith('optimizer.')) return undefined;
  const rest = name.slice('optimizer.'.length);
  const dot = rest.indexOf('.');
  const slot = dot < 0 ? rest : rest.slice(0, dot);
  return slot === '' ? undefined : { slot, path: dot < 0 ? '' : rest.slice(dot + 1) };
};

/** The dtype of every flow parameter as stored. */
const PARAM_DTYPE = 'F32';
/** Stored dtypes that can hold NaN or an infinity (every float dtype a checkpoint may hold). */
const FLOAT_DTYPES: ReadonlySet<string> = new Set(['F32']);

/** `name: 3 of 1024 values are NaN` for every float tensor with values that are not finite. */
const nonFiniteTensors = (named: ReadonlyArray<readonly [string, SafeTensor]>): string[] => {
  const problems: string[] = [];
  for (const [name, t] of named) {
    if (!FLOAT_DTYPES.has(t.dtype)) continue;
    let nan = 0;
    let inf = 0;
    for (const v of t.data) {
      if (Number.isNaN(v)) nan++;
      else if (v === Infinity || v === -Infinity) inf++;
    }
    if (nan + inf > 0) {
      const kinds = [nan > 0 ? `${nan} NaN` : '', inf > 0 ? `${inf} infinite` : ''].filter((k) => k !== '').join(', ');
      problems.push(`${name}: ${kinds} of ${t.data.length} values`);
    }
  }
  return problems;
};

/**
 * Decodes checkpoint bytes into fresh tensors (the caller owns and disposes them). With `expected`,
 * the stored spec and tensors are checked first and a CheckpointError lists every difference: spec
 * fields, missing, extra and mis-shaped parameters, and optimizer tensors that are not parameters or
 * have another shape (optimizer slots may leave parameters out). A float tensor holding NaN or an
 * infinity is an error too, naming each such tensor. No tensor is created on failure.
 */
export const decodeCheckpoint = (bytes: Uint8Array, expected?: ExpectedCheckpoint): Checkpoint => {
  const { tensors, metadata } = decodeSafetensors(bytes);
  // safetensors also carries 8-bit data (the PyTorch export's data file); a checkpoint holds F32 and I32 only.
  const eightBit = [...tensors].filter(([, t]) => t.dtype === 'U8').map(([name]) => JSON.stringify(name));
  if (eightBit.length > 0) throw new CheckpointError('not a valid checkpoint: its tensors are F32 or I32', eightBit.map((n) => `tensor ${n}: dtype U8`));
  const format = metadata['format'];
  if (format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      format === undefined
        ? `not a typed-flows checkpoint: a safetensors file without metadata "format" (expected "${CHECKPOINT_FORMAT}")`
        : `not a typed-flows checkpoint: metadata "format" is ${JSON.stringify(format)}, expected "${CHECKPOINT_FORMAT}"`,
    );
  }
  const specFormat = metadata['specFormat'];
  // Absent in checkpoints written before the spec format had a version: those are version 1.
  if (specFormat !== undefined && specFormat !== SPEC_FORMAT) {
    throw new CheckpointError(`the checkpoint's spec format is ${JSON.stringify(specFormat)}; this build of typed-flows reads "${SPEC_FORMAT}" (the file may come from a newer version)`);
  }
  const specJson = metadata['spec'];
  const stepText = metadata['step'];
  if (specJson === undefined) throw new CheckpointError('not a valid checkpoint: metadata "spec" is missing');
  if (stepText === undefined || !/^(0|[1-9]\d*)$/.test(stepText) || !Number.isSafeInteger(Number(stepText))) {
    throw new CheckpointError(`not a valid checkpoint: metadata "step" is ${stepText === undefined ? 'missing' : JSON.stringify(stepText)}, expected a non-negative integer`);
  }
  const storedSpec = parseJson('spec', specJson);
  const configText = metadata['config'];
  const config = configText === undefined ? undefined : parseJson('config', configText);

  const params = new Map<string, SafeTensor>();
  const slots = new Map<string, Map<string, SafeTensor>>();
  const problems: string[] = [];
  for (const [name, t] of tensors) {
    const parsed = parseName(name);
    if (parsed === undefined) problems.push(`${name}: not a checkpoint tensor (names start with "params." or "optimizer.<slot>.")`);
    else if (parsed.slot === undefined) params.set(parsed.path, t);
    else {
      const slot = slots.get(parsed.slot) ?? new Map<string, SafeTensor>();
      slots.set(parsed.slot, slot);
      slot.set(parsed.path, t);
    }
  }
  if (problems.length > 0) throw new CheckpointError('not a valid checkpoint', problems);

  if (expected !== undefined) {
    if (expected.spec !== undefined) problems.push(...jsonDiff(withoutFormatTag(storedSpec), FlowSpecCodec.encode(expected.spec)).map((d) => `spec ${d}`));
    if (expected.specJson !== undefined) problems.push(...jsonDiff(storedSpec, parseJson('specJson (expected)', expected.specJson)).map((d) => `spec ${d}`));
    const info = expected.paramInfo ?? (expected.spec === undefined ? undefined : paramInfo(expected.spec));
    if (info !== undefined) {
      const want = new Map(info.map((p) => [p.path, p.shape]));
      for (const [path, shape] of want) {
        const got = params.get(path);
        const name = tensorName('params', path);
        if (got === undefined) problems.push(`${name}: missing (expected ${formatShape(shape)})`);
        else if (!sameShape(got.shape, shape)) problems.push(`${name}: shape ${formatShape(got.shape)}, expected ${formatShape(shape)}`);
        // Every parameter of a flow is float32: other bytes under its name would be read as other numbers.
        else if (got.dtype !== PARAM_DTYPE) problems.push(`${name}: dtype ${got.dtype}, expected ${PARAM_DTYPE} (the model's parameters are float32)`);
      }
      for (const path of params.keys()) if (!want.has(path)) problems.push(`${tensorName('params', path)}: not a parameter of the expected model`);
      // Optimizer slots may leave parameters out (e.g. frozen ones): only extra and mis-shaped tensors count.
      for (const [slot, m] of slots) {
        for (const [path, shape] of want) {
          const got = m.get(path);
          if (got !== undefined && !sameShape(got.shape, shape)) problems.push(`${tensorName(`optimizer.${slot}`, path)}: shape ${formatShape(got.shape)}, expected ${formatShape(shape)}`);
        }
        for (const path of m.keys()) if (!want.has(path)) problems.push(`${tensorName(`optimizer.${slot}`, path)}: not a parameter of the expected model`);
      }
    }
    if (problems.length > 0) throw new CheckpointError('the checkpoint does not match the expected model', problems);
  }

  const nonFinite = nonFiniteTensors([
    ...[...params].map(([p, t]) => [tensorName('params', p), t] as const),
    ...[...slots].flatMap(([slot, m]) => [...m].map(([p, t]) => [tensorName(`optimizer.${slot}`, p), t] as const)),
  ]);
  if (nonFinite.length > 0) {
    throw new CheckpointError(
      `the checkpoint holds non-finite values (NaN or infinity) in ${nonFinite.length} tensor${nonFinite.length === 1 ? '' : 's'}; a model with them computes NaN. Use an earlier checkpoint or retrain`,
      nonFinite,
    );
  }

  const toTensor = (t: SafeTensor): tf.Tensor => tf.tensor(t.data, [...t.shape], t.dtype === 'F32' ? 'float32' : 'int32');
  return {
    specJson,
    step: Number(stepText),
    config,
    params: new Map([...params].map(([p, t]) => [p, toTensor(t)])),
    optimizer: new Map([...slots].map(([s, m]) => [s, new Map([...m].map(([p, t]) => [p, toTensor(t)]))])),
    metadata,
  };
};

// ---------------------------------------------------------------------------------------------
// Rebuilding trees

const isSpec = (u: FlowSpec | ShapeTree): u is FlowSpec => !Array.isArray(u) && typeof (u as { kind?: unknown }).kind === 'string';

/**
 * `paramsFromFlat` of src/dsl/params.ts for a spec (or a ShapeTree such as `paramShapes(spec)`), with a
 * mismatch reported as a CheckpointError listing every missing, extra or mis-shaped tensor.
 */
export const paramsFromFlat = (
  shapesOrSpec: FlowSpec | ShapeTree,
  flat: ReadonlyMap<string, tf.Tensor> | Iterable<readonly [string, tf.Tensor]>,
): ParamTree => {
  try {
    return treeFromFlat(isSpec(shapesOrSpec) ? paramShapes(shapesOrSpec) : shapesOrSpec, flat);
  } catch (e) {
    if (e instanceof ParamMismatchError) throw new CheckpointError('parameters do not match the model', e.problems);
    throw e;
  }
};

/** A decoded checkpoint's optimizer slots as trees mirroring `spec` (each slot must hold every parameter). */
export const optimizerFromFlat = (
  shapesOrSpec: FlowSpec | ShapeTree,
  slots: ReadonlyMap<string, ReadonlyMap<string, tf.Tensor>>,
): { [slot: string]: ParamTree } => Object.fromEntries([...slots].map(([slot, m]) => [slot, paramsFromFlat(shapesOrSpec, m)]));

/** Disposes every tensor of a decoded checkpoint. */
export const disposeCheckpoint = (ckpt: Pick<Checkpoint, 'params' | 'optimizer'>): void => {
  for (const t of ckpt.params.values()) t.dispose();
  for (const m of ckpt.optimizer.values()) for (const t of m.values()) t.dispose();
};
