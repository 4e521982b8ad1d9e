export { convNet, made, mlp, activations, type Activation, type ConvNetSpec, type ConvNetOptions, type MadeOptions, type MadeOrder, type MadeSpec, type MlpOptions, type MlpSpec, type NetSpec } from './spec.js';
export { applyConvNet, convNetParamShapes, initConvNet } from './convnet.js';
export { applyMade, applyMlp, initMlp, inputDegrees, madeMasks, madeOrder, mlpParamShapes } from './mlp.js';
export { applyNet, initNet, netParamShapes, netRanks } from './net.js';
export { conv2dSame, sumPerSample } from './ops.js';
