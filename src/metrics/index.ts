/** Image metrics on 8-bit NHWC tensors; each returns a plain number. */
export { rmse, psnr, diversity, PSNR_OF_IDENTICAL } from './pixel.js';
export { ssim, ssimWindowSize, SSIM_WINDOW, SSIM_SIGMA } from './ssim.js';
/** LPIPS and FID need user-supplied pretrained networks (see docs/experiments.md, "LPIPS and FID"). */
export { lpips, lpipsPerImage, lpipsWeightsFromTensors, disposeLpipsWeights, lpipsFeatureSizes, lpipsExpectedTensors, type LpipsWeights } from './lpips.js';
export { fid, frechetDistance, gaussianStats, type FeatureMatrix, type GaussianStats, type FidOptions } from './fid.js';
export { extractFeatures, prepareForFeatures, type FeatureModel, type PixelRange } from './features.js';
