export { convNet, made, mlp, activations, type Activation, type ConvNetSpec, type ConvNetOptions, type MadeOptions, type MadeOrder, type MadeSpec, type MlpOptions, type MlpSpec, type NetSpec } from './spec.js';
export { convNetOn, convNetParamShapes, initConvNet } from './convnet.js';
export { initMlp, inputDegrees, madeMasks, madeOn, madeOrder, mlpOn, mlpParamShapes } from './mlp.js';
export { applyConvNet, applyMade, applyMlp, applyNet, initNet, netOn, netParamShapes, netRanks, type NetWidths } from './net.js';
export { conv2dSame, sumPerSample } from './ops.js';
