/** Stand-ins for the pretrained networks behind LPIPS and FID: seeded random LPIPS weights, tiny feature models. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../src/dsl/random.js';
import type { SafeTensor } from '../../src/io/safetensors.js';
import { lpipsExpectedTensors } from '../../src/metrics/lpips.js';

/** Seeded, so fixtures are the same on every run. */
export const rng = seededRandom;

/** LPIPS-alex tensors in PyTorch layout: convs with PyTorch's default init range, lin weights >= 0 as released. */
export const randomLpipsTensors = (seed: number): Map<string, SafeTensor> => {
  const next = rng(seed);
  const m = new Map<string, SafeTensor>();
  for (const [name, shape] of lpipsExpectedTensors()) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 4 ? (shape[1] as number) * (shape[2] as number) * (shape[3] as number) : 64;
    const bound = 1 / Math.sqrt(fanIn);
    const data = Float32Array.from({ length: n }, () => (name.startsWith('lin') ? next() * bound : (2 * next() - 1) * bound));
    m.set(name, { dtype: 'F32', shape, data });
  }
  return m;
};

/** Saves a layers model as `<name>.json` + `<name>.bin` in `dir`, the way tensorflowjs_converter lays them out. */
export const saveLayersModel = async (model: tf.LayersModel, dir: string, name: string): Promise<string> => {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts as tf.io.ModelArtifacts;
  writeFileSync(join(dir, `${name}.bin`), new Uint8Array(a.weightData as ArrayBuffer));
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: [`${name}.bin`], weights: a.weightSpecs }] }));
  return file;
};
