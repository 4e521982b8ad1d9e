export { convNet, type ConvNetSpec, type ConvNetOptions, type NetSpec } from './spec.js';
export { applyConvNet, convNetParamShapes, initConvNet } from './convnet.js';
export { conv2dSame, sumPerSample } from './ops.js';
