/** The smallest useful CAFLOW run config (MNIST SR, 2 scales, width 4, 200 digits) for end-to-end CLI tests. */
import { presets, type RunConfig } from '../../src/experiments/config.js';

export const tinyRunConfig = (steps: number): RunConfig => {
  const base = presets['mnist-sr'] as RunConfig;
  return {
    ...base,
    name: 'tiny',
    data: { source: 'mnist', limit: 200 },
    model: { ...base.model, scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 4, conditionalHidden: 4 },
    train: { ...base.train, steps, batchSize: 4, checkpointEvery: 100000 },
    eval: { conditions: 4, samples: 3, temperature: 0.5 },
  };
};
