/** Image metrics on 8-bit NHWC tensors; each returns a plain number. */
export { rmse, psnr, diversity, PSNR_OF_IDENTICAL } from './pixel.js';
export { ssim, ssimWindowSize, SSIM_WINDOW, SSIM_SIGMA } from './ssim.js';
