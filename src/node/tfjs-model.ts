/**
 * A TensorFlow.js model on disk (model.json + the weight shards its weightsManifest lists, as written
 * by tensorflowjs_converter or model.save) loaded as a feature extractor, through an IOHandler that
 * reads the files (tfjs's own file:// handler lives in tfjs-node, which is optional here).
 * Both 'graph-model' and 'layers-model' formats; the format field, or else the topology, decides.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { FeatureModel } from '../metrics/features.js';

/** Anything wrong with the model file or its shards; the message says what. */
export class ModelFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelFileError';
  }
}

export type ModelFormat = 'graph-model' | 'layers-model';

export interface LoadedFeatureModel extends FeatureModel {
  readonly format: ModelFormat;
  readonly dispose: () => void;
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

const formatOf = (json: Record<string, unknown>): ModelFormat | undefined => {
  if (json.format === 'graph-model' || json.format === 'layers-model') return json.format;
  const topology = json.modelTopology;
  if (!isObject(topology)) return undefined;
  if ('node' in topology) return 'graph-model';
  if ('class_name' in topology || 'model_config' in topology || 'config' in topology) return 'layers-model';
  return undefined;
};

const concat = (buffers: readonly Uint8Array[]): ArrayBuffer => {
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of buffers) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out.buffer;
};

/** An IOHandler reading model.json and its shards (paths relative to model.json's directory). */
export const fileModelHandler = (modelJsonPath: string, json: tf.io.ModelJSON): tf.io.IOHandler => ({
  load: () =>
    tf.io.getModelArtifactsForJSON(json, async (manifest) => {
      const dir = dirname(resolve(modelJsonPath));
      const paths = manifest.flatMap((group) => group.paths.map((p) => resolve(dir, p)));
      const missing: string[] = [];
      const shards = await Promise.all(
        paths.map(async (p) => {
          try {
            return new Uint8Array(await readFile(p));
          } catch {
            missing.push(p);
            return new Uint8Array(0);
          }
        }),
      );
      if (missing.length > 0) throw new ModelFileError(`weight shard(s) listed in ${modelJsonPath} cannot be read: ${missing.join(', ')}`);
      return [manifest.flatMap((group) => group.weights), concat(shards)];
    }),
});

const readModelJson = async (path: string): Promise<tf.io.ModelJSON & Record<string, unknown>> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = isObject(e) && typeof e.code === 'string' ? e.code : '';
    throw new ModelFileError(code === 'ENOENT' ? `'${path}' does not exist` : `cannot read '${path}': ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`'${path}' is not JSON (${(e as Error).message})`, { cause: e });
  }
  if (!isObject(json) || !isObject(json.modelTopology) || !Array.isArray(json.weightsManifest))
    throw new ModelFileError(`'${path}' is not a TensorFlow.js model.json: it needs "modelTopology" and "weightsManifest"`);
  return json as tf.io.ModelJSON & Record<string, unknown>;
};

const inputGeometry = (shape: readonly (number | null)[] | undefined, path: string): Pick<FeatureModel, 'inputSize' | 'channels'> => {
  if (shape === undefined) return { inputSize: null, channels: null };
  if (shape.length !== 4) throw new ModelFileError(`the model in '${path}' takes rank-${shape.length} inputs [${shape.join(',')}]; a feature model takes images [batch, height, width, channels]`);
  const known = (d: number | null | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);
  const h = known(shape[1]);
  const w = known(shape[2]);
  return { inputSize: h !== null && w !== null ? [h, w] : null, channels: known(shape[3]) };
};

const single = (out: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, path: string): tf.Tensor => {
  if (out instanceof tf.Tensor) return out;
  tf.dispose(Array.isArray(out) ? out : Object.values(out));
  throw new ModelFileError(`the model in '${path}' has several outputs; a feature model must have one (e.g. InceptionV3's pool3)`);
};

/** Loads a TensorFlow.js model from model.json as a feature extractor with one image input and one output. */
export const loadFeatureModel = async (path: string): Promise<LoadedFeatureModel> => {
  const json = await readModelJson(path);
  const format = formatOf(json);
  if (format === undefined) throw new ModelFileError(`'${path}': cannot tell whether it is a 'graph-model' or a 'layers-model' (no "format" field, unknown topology)`);
  const handler = fileModelHandler(path, json);
  try {
    if (format === 'graph-model') {
      const model = await tf.loadGraphModel(handler);
      if (model.inputs.length !== 1) throw new ModelFileError(`the model in '${path}' has ${model.inputs.length} inputs; a feature model takes one image batch`);
      return { format, ...inputGeometry(model.inputs[0]?.shape, path), predict: (x) => single(model.predict(x), path), dispose: () => model.dispose() };
    }
    const model = await tf.loadLayersModel(handler);
    if (model.inputs.length !== 1) throw new ModelFileError(`the model in '${path}' has ${model.inputs.length} inputs; a feature model takes one image batch`);
    return { format, ...inputGeometry(model.inputs[0]?.shape, path), predict: (x) => single(model.predict(x), path), dispose: () => model.dispose() };
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(`cannot load the ${format} in '${path}': ${(e as Error).message}`, { cause: e });
  }
};
