export { rmse, psnr, diversity, PSNR_OF_IDENTICAL } from './pixel.js';
export { ssim } from './ssim.js';
