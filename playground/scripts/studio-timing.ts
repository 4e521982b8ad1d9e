/**
 * The density studio's fit in Node, for the time per step against the page's (docs/playground.md):
 *
 *   npx tsx playground/scripts/studio-timing.ts [steps] [preset]
 *
 * The same data (1,000 moons, seed 1), preset distribution and fit settings as the page's defaults
 * (playground/src/studio/spec.ts), on the backend `typed-flows fit` picks here. Prints the backend,
 * the time per step (validation included, as the page counts it) and the best validation NLL.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/backend/index.js';
import { distributions, disposeParams } from '../../src/index.js';
import { splitOf, toyRows, toys } from '../src/studio/data.js';
import { fitOptionsOf, presetDistribution, presetObjective, studioSettings, type StudioPreset } from '../src/studio/spec.js';

const steps = Number(process.argv[2] ?? 120);
const preset = (process.argv[3] ?? 'nsf') as StudioPreset;
if (!(Number.isInteger(steps) && steps >= 1) || !(distributions.modelPresets as readonly string[]).includes(preset)) {
  console.error(`usage: npx tsx playground/scripts/studio-timing.ts [steps >= 1] [${distributions.modelPresets.join('|')}]`);
  process.exit(2);
}
await selectBackend({ log: () => undefined });
const SEED = 1;
const rows = toyRows(toys['moons']!, 1000, SEED);
const data = tf.tensor2d(rows, [1000, 2]);
const dist = presetDistribution(preset, splitOf(1000, SEED).train.length);
const settings = studioSettings(steps, SEED, presetObjective(preset));
const start = performance.now();
const result = distributions.fit(dist, data, fitOptionsOf(settings));
const ms = (performance.now() - start) / result.steps;
console.log(`${preset} on 1,000 moons, ${result.steps} steps on ${tf.getBackend()}: ${ms.toFixed(1)} ms per step; best validation NLL ${result.validationNll?.toFixed(3)} (step ${result.bestStep})`);
disposeParams(result.params);
data.dispose();
