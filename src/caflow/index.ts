export * from './config.js';
export * from './model.js';
export * from './params.js';
export { encoderSpec, encoderLatentShapes, type EncoderOptions } from './encoder.js';
export { conditionalSpec, squeezedShape, dName, lName, type ConditionalOptions } from './conditional.js';
export { logLikelihood, caflowLoss, conditionalBitsPerDim, type LogLikelihood } from './likelihood.js';
export { conditioningFor, likelihoodTerms, encodeCondition, conditionLogProb, encodersLogProb, flowSite, flowParams, type CaflowEngine, type CaflowFlow, type CaflowFlowSite, type FlowPass, type LikelihoodTerms, type EncodedCondition, type ToLatents, type FromLatents } from './maths.js';
export { tfjsCaflowEngine } from './tfjs-engine.js';
export { sample, sampleNoise, temperatures, repeatEach, type SampleOptions, type Samples } from './sample.js';
export { initCaflow } from './init.js';
export { dequantize, quantize } from './quantize.js';
export { standardNormalLogProb, latentsLogProb } from './gaussian.js';
export { toLatents, fromLatents, type Latents, type Encoded, type Decoded } from './latents.js';
export { caflowStep, trainableFor, encodersLoss, type Phase, type CaflowStepOptions, type CaflowStepResult } from './train.js';
export {
  encodeCaflowCheckpoint,
  decodeCaflowCheckpoint,
  encodeCaflowModel,
  decodeCaflowModel,
  decodeCaflowSpec,
  caflowShapeTree,
  caflowParamInfo,
  type CaflowCheckpoint,
  type CaflowModelFile,
  type LossRecord,
} from './checkpoint.js';
export { caflowToOnnx, caflowDirections, latentName, noiseName, priorLatents, type CaflowDirection, type CaflowOnnxOptions } from './onnx.js';
export { caflowToPyTorch } from './pytorch.js';
export { trainScript } from './train-script.js';
export { float64CaflowEngine, float64LikelihoodTerms, float64FromLatents } from './reference.js';
