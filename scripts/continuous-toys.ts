/**
 * Continuous flows on the 2-D toys (docs/continuous.md): a `cnf` trained by flow matching (and, with
 * --likelihood, by maximum likelihood through the solver), scored by exact held-out NLL (nats).
 * Usage: npx tsx scripts/continuous-toys.ts [--steps 3000] [--seeds 0,1,2] [--likelihood] [--pairing ot]
 * Data: bench/density-data.ts's toys, 2,000 training rows (seed 100 + s) and 2,000 test rows (seed 900 + s);
 * the training rows are centred and scaled by their overall std (a fixed scaleShift before the cnf).
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend/index.js';
import { chain, cnf, scaleShift } from '../src/dsl/index.js';
import { fit, standardNormal, transformed } from '../src/distributions/index.js';
import { meanNll } from '../src/distributions/fit.js';
import { disposeParams } from '../src/interpreters/index.js';
import { checkerboard, rings, twoMoons, type Toy } from '../bench/density-data.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
};
const steps = Number(option('--steps', '3000'));
const seeds = option('--seeds', '0').split(',').map(Number);
const objective = args.includes('--likelihood') ? 'likelihood' : 'flow-matching';
const pairing = option('--pairing', 'independent') as 'independent' | 'ot';
const hidden = option('--hidden', '64,64').split(',').map(Number);
const lr = Number(option('--lr', '2e-3'));
const activation = option('--activation', 'tanh') as 'tanh' | 'softplus';
const only = option('--toys', 'two moons,rings,checkerboard').split(',');
const toys: readonly Toy[] = [twoMoons, rings, checkerboard].filter((t) => only.includes(t.name));

await selectBackend({ log: () => undefined });
console.log(`backend ${tf.getBackend()}, hidden ${hidden.join('x')} ${activation}, lr ${lr}, ${objective}${objective === 'flow-matching' ? ` (${pairing})` : ''}, ${steps} steps, seeds ${seeds.join(',')}`);
for (const toy of toys) {
  for (const s of seeds) {
    const train = toy.sample(2000, 100 + s);
    const test = toy.sample(2000, 900 + s);
    const flat = train.flat();
    const mean = flat.reduce((a, b) => a + b, 0) / flat.length;
    const std = Math.sqrt(flat.reduce((a, b) => a + (b - mean) ** 2, 0) / flat.length);
    const dist = transformed(standardNormal([2]), chain(scaleShift([2], { scale: 1 / std, shift: -mean / std }), cnf([2], { hidden, activation, frequencies: 4, solver: { kind: 'rk4', steps: 16 } })));
    const x = tf.tensor2d(train);
    const xt = tf.tensor2d(test);
    const started = performance.now();
    const r = fit(dist, x, { objective, pairing, steps, lr, batchSize: 256, evalEvery: 250, patience: 8, seed: s, validationFraction: 0.1 });
    const seconds = (performance.now() - started) / 1000;
    const nll = meanNll(dist, r.params, [xt]);
    const truth = toy.exactEntropy !== undefined ? ` (truth ${toy.exactEntropy.toFixed(3)})` : '';
    console.log(`${toy.name} seed ${s}: held-out NLL ${nll.toFixed(3)} nats${truth}, best step ${r.bestStep}/${r.steps}, ${seconds.toFixed(0)} s`);
    disposeParams(r.params);
    tf.dispose([x, xt]);
  }
}
