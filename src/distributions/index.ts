// Distributions as values (browser-safe): base kinds (normals, Gaussian mixtures, Student-t's), flows
// pushed through them, standardization; their log-density, sampling, fitting and exports.
export * from './spec.js';
export * from './codec.js';
export {
  logProb,
  sample,
  sampleAndLogProb,
  samplingCost,
  densityCost,
  initDistribution,
  distributionParamShapes,
  distributionParamInfo,
  checkDistributionParams,
  logProbRaw,
  sampleRaw,
  type SampleArgs,
  type EventInputs,
  type Samples,
  type SamplesWithLogProb,
  type DistributionInitOptions,
} from './interpret.js';
export * from './fit.js';
export * from './model.js';
export { distributionToOnnx, distributionGraphs, type DistributionGraph, type DistributionOnnxOptions } from './onnx.js';
export { distributionToPyTorch } from './pytorch.js';
export * from './baselines.js';
export * from './presets.js';
export { fitGaussianMixture, selectGaussianMixture, mixtureLogDensities, nllWithError, type GaussianMixtureFit, type EmOptions, type MixtureSelection } from './em.js';
export * from './tails.js';
// One definition per base kind, and the one fold over distributions that every engine's passes use.
export { defineDistribution, type DistributionDefinition, type NoiseSpec, type NoiseLaw, type NoiseName, type BaseInitArgs } from './kinds/definition.js';
export { baseDefinitions, baseDefinitionOf, baseKinds } from './kinds/index.js';
export { foldDistribution, logProbOn, drawOn, noiseOf, noiseSourceOn, rootAt, type DistributionFoldTable, type DistributionEngine, type DistributionAt, type Draws, type NoiseSource } from './fold.js';
