/**
 * Distributions' random, non-trivial parameters and the noise a draw takes, shared by the engine
 * parity tests (ONNX, PyTorch): every flow perturbed, every base kind's parameters off their
 * initialisation, and the very noise `sampleAndLogProb` draws from a seed.
 */
import * as tf from '@tensorflow/tfjs';
import { distributionSignature, type DistributionSpec } from '../../src/distributions/index.js';
import { seedStream, tfjsDistributionEngine } from '../../src/distributions/interpret.js';
import { noiseOf as noiseSpecsOf, noiseSourceOn } from '../../src/distributions/fold.js';
import { drawNoise } from '../../src/distributions/noise.js';
import type { AnyFlow } from '../../src/dsl/index.js';
import type { ParamTree } from '../../src/dsl/params.js';
import { tensorShape } from '../../src/dsl/shape.js';
import { perturbedParams } from '../../src/interpreters/verify.js';

/** Random non-trivial params: each flow's perturbed params, a diagonal normal's mean and log std ~ N(0, 0.3). */
export const randomDistributionParams = (dist: DistributionSpec, seed: number): ParamTree => {
  switch (dist.kind) {
    case 'standardNormal':
      return {};
    case 'diagonalNormal':
      return dist.shapes.map((s, i) => ({
        mean: tf.randomNormal(tensorShape(s, 1).slice(1), 0, 0.3, 'float32', seed * 7 + i),
        logStd: tf.randomNormal(tensorShape(s, 1).slice(1), 0, 0.3, 'float32', seed * 11 + i),
      }));
    case 'transformed':
      return { base: randomDistributionParams(dist.base, seed + 100), flow: perturbedParams(dist.flow as AnyFlow, seed, 0.3) };
    case 'gaussianMixture': {
      // Unequal weights, means of order 1, precision factors off the identity (diagonal logs ~ N(0, 0.3)).
      const { components: k, shape: [d] } = dist;
      return {
        logits: tf.randomNormal([k], 0, 1, 'float32', seed * 19),
        means: tf.randomNormal([k, d], 0, 1, 'float32', seed * 23),
        precisionFactor: tf.randomNormal([k, d, d], 0, 0.3, 'float32', seed * 29),
      };
    }
    case 'studentT':
      // nu = 0.5 + softplus(rawDf) between about 1 and 2.5: heavy tails, draws far out.
      return {
        location: tf.randomNormal([...dist.shape], 0, 1, 'float32', seed * 31),
        logScale: tf.randomNormal([...dist.shape], 0, 0.3, 'float32', seed * 37),
        rawDf: tf.randomNormal([...dist.shape], 1, 0.5, 'float32', seed * 41),
      };
    case 'standardized':
      // Locations of order 2 and scales between about 0.4 and 2.7: far from the identity.
      return {
        events: distributionSignature(dist).event.map((s, i) => {
          const shape = tensorShape(s, 1).slice(1);
          return { location: tf.randomNormal(shape, 0, 2, 'float32', seed * 13 + i), scale: tf.tidy(() => tf.exp(tf.randomNormal(shape, 0, 0.5, 'float32', seed * 17 + i))) };
        }),
        base: randomDistributionParams(dist.base, seed + 200),
      };
  }
};

/** The noise `sampleAndLogProb(dist, params)(n, { seed })` draws, by the same drawNoise from the same seed stream, with the ONNX input names. */
export const drawnNoise = (dist: DistributionSpec, params: ParamTree, n: number, seed: number): { readonly tensors: tf.Tensor[]; readonly inputs: { [name: string]: tf.Tensor }; readonly normal: tf.Tensor[] } => {
  const source = noiseSourceOn(tfjsDistributionEngine, dist, params);
  const tensors = tf.tidy(() => drawNoise(source.spec, source.noise, source.values, n, seedStream(seed)));
  const specs = noiseSpecsOf(dist);
  const count = (name: string) => specs.filter((s) => s.name === name).length;
  const seen = new Map<string, number>();
  const inputs = Object.fromEntries(
    specs.map((s, i) => {
      const j = seen.get(s.name) ?? 0;
      seen.set(s.name, j + 1);
      return [count(s.name) === 1 ? s.name : `${s.name}${j}`, tensors[i] as tf.Tensor];
    }),
  );
  return { tensors, inputs, normal: tensors.filter((_, i) => specs[i]?.name === 'noise') };
};
