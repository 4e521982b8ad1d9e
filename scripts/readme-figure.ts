/**
 * The README's opening picture: the bundled super-resolution model (playground/public/checkpoints/sr.safetensors)
 * on the first held-out digits of the playground (playground/public/examples.json): per row the condition
 * Y, six samples ranked by log p(W | Y) best first, and the ground truth, as a labelled sample grid
 * (PNG with its SVG beside it).
 * Usage: npx tsx scripts/readme-figure.ts [--output docs/images/readme-sr.png] [--rows 4] [--k 6]
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { variantName } from '../src/experiments/config.js';
import { gridTitle, writeSampleGrid } from '../src/node/sample-grid.js';
import { decodeAsset, Examples, exampleImages } from '../playground/src/assets.js';
import { conditionOf, disposeModel, readModelFile, sampleRanked } from '../playground/src/session.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
};
const output = option('--output', 'docs/images/readme-sr.png');
const rows = Number(option('--rows', '4'));
const k = Number(option('--k', '6'));

const model = readModelFile(new Uint8Array(readFileSync('playground/public/checkpoints/sr.safetensors')), 'sr.safetensors', 'sr');
const examples = decodeAsset(Examples, JSON.parse(readFileSync('playground/public/examples.json', 'utf8')), 'examples.json');
const targets = exampleImages(examples.grey).slice(0, rows);
const [h, w, c] = model.imageShape;
const conditions = targets.map((t) => conditionOf('sr', t, model.imageShape));
const samples: Uint8Array[] = [];
for (const y of conditions) {
  const ranked = await sampleRanked(model, y, { k, temperature: model.temperature, seed: 0, chunk: k }, async () => undefined, { kind: 'tfjs' });
  samples.push(...ranked.map((s) => s.image));
}
const batch = (images: readonly Uint8Array[]): tf.Tensor4D => tf.tensor4d(Float32Array.from(images.flatMap((i) => Array.from(i))), [images.length, h, w, c]);
const [y, s, truth] = [batch(conditions), batch(samples), batch(targets)];
await writeSampleGrid(output, y, s, truth, k, gridTitle(model.variant, 'sr (MNIST, 32×32)', model.step, model.temperature));
tf.dispose([y, s, truth]);
disposeModel(model);
console.log(`wrote ${output}: ${variantName(model.variant)}, ${rows} held-out digits, ${k} samples each at temperature ${model.temperature}`);
