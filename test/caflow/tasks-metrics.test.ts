/** Tasks (Y from W), bicubic resizing, metrics, bundled MNIST and PNG grids. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { coloredMnist, loadMnist, splitTrainVal } from '../../src/data/mnist.js';
import { diversity, psnr, rmse, ssim } from '../../src/metrics/index.js';
import { writeImageGrid } from '../../src/node/png.js';
import { bicubicResize, cubic, getTask, resampleMatrix, tasks } from '../../src/tasks/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-tasks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('bicubic resize', () => {
  it("uses Keys' kernel (a = -0.5) and rows of the resampling matrix sum to 1", () => {
    expect(cubic(0)).toBe(1);
    expect(cubic(1)).toBe(0);
    expect(cubic(0.5)).toBeCloseTo(0.5625, 12);
    expect(cubic(1.5)).toBeCloseTo(-0.0625, 12);
    for (const [a, b] of [[32, 8], [8, 32], [5, 7]] as const) {
      const m = resampleMatrix(a, b);
      for (let i = 0; i < b; i++) expect(m.slice(i * a, (i + 1) * a).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
  });

  it('keeps constant images constant, down and up', () => {
    const x = tf.fill([2, 16, 16, 3], 77) as tf.Tensor4D;
    const y = bicubicResize(bicubicResize(x, 4, 4), 16, 16);
    expect(tf.max(tf.abs(tf.sub(y, 77))).dataSync()[0]).toBeLessThan(1e-3);
  });

  it('upscaling by 2 interpolates a ramp linearly inside the image', () => {
    const ramp = tf.tensor4d([0, 10, 20, 30], [1, 1, 4, 1]);
    const up = Array.from(bicubicResize(ramp, 1, 8).dataSync());
    // Output centres at input coordinates -0.25, 0.25, ..., 3.25; where all four taps are inside the
    // image (centres 1.25 and 1.75) cubic convolution reproduces a linear ramp exactly.
    for (let i = 3; i < 5; i++) expect(up[i]).toBeCloseTo(10 * ((i + 0.5) / 2 - 0.5), 4);
  });
});

describe('tasks', () => {
  const w = tf.floor(tf.randomUniform([3, 32, 32, 1], 0, 256, 'float32', 1)) as tf.Tensor4D;

  it.each(Object.keys(tasks).filter((t) => t !== 'colorize'))('%s makes 8-bit conditions of the declared shape', (name) => {
    const y = getTask(name).makeCondition(w);
    expect(y.shape).toEqual([3, 32, 32, getTask(name).conditionChannels(1)]);
    const v = y.dataSync();
    expect(v.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)).toBe(true);
  });

  it('super-resolution is bicubic down by 4 then up, rounded', () => {
    const y = getTask('sr').makeCondition(w);
    const low = tf.clipByValue(tf.round(bicubicResize(w, 8, 8)), 0, 255) as tf.Tensor4D;
    const expected = tf.clipByValue(tf.round(bicubicResize(low, 32, 32)), 0, 255);
    expect(tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]).toBe(0);
  });

  it('inpainting masks the central ~15% square or the right half, and nothing else', () => {
    const ones = tf.fill([1, 32, 32, 1], 200) as tf.Tensor4D;
    const center = getTask('inpaint-center').makeCondition(ones).dataSync();
    const zeros = center.filter((v) => v === 0).length;
    expect(zeros / 1024).toBeGreaterThan(0.13);
    expect(zeros / 1024).toBeLessThan(0.17);
    expect(center[16 * 32 + 16]).toBe(0);
    expect(center[0]).toBe(200);
    const right = getTask('inpaint-right').makeCondition(ones).dataSync();
    expect(right[5 * 32 + 15]).toBe(200);
    expect(right[5 * 32 + 16]).toBe(0);
  });

  it('colorize gives the BT.601 luma of known colours', () => {
    const rgb = tf.tensor4d([255, 0, 0, 0, 255, 0, 0, 0, 255, 100, 100, 100], [1, 2, 2, 3]);
    expect(Array.from(getTask('colorize').makeCondition(rgb).dataSync())).toEqual([76, 150, 29, 100]);
  });

  it('sketch marks the edges of a square, not its flat inside or outside', () => {
    const img = tf.buffer([1, 16, 16, 1]);
    for (let r = 4; r < 12; r++) for (let c = 4; c < 12; c++) img.set(255, 0, r, c, 0);
    const e = getTask('sketch').makeCondition(img.toTensor() as tf.Tensor4D).dataSync();
    expect(e[4 * 16 + 8]).toBe(255);
    expect(e[8 * 16 + 8]).toBe(0);
    expect(e[0]).toBe(0);
  });

  it('unknown tasks are named with the valid ones', () => {
    expect(() => getTask('deblur')).toThrow('Unknown task');
  });
});

describe('metrics', () => {
  const a = tf.floor(tf.randomUniform([2, 16, 16, 1], 0, 200, 'float32', 3)) as tf.Tensor4D;

  it('RMSE of a constant offset d is d, PSNR follows 10 log10(255^2 / MSE)', () => {
    expect(rmse(a, tf.add(a, 7) as tf.Tensor4D)).toBeCloseTo(7, 4);
    expect(psnr(a, tf.add(a, 7) as tf.Tensor4D)).toBeCloseTo(10 * Math.log10((255 * 255) / 49), 3);
    expect(psnr(a, a)).toBe(100);
  });

  it('SSIM is 1 for identical images and drops with noise', () => {
    expect(ssim(a, a)).toBeCloseTo(1, 5);
    const noisy = tf.add(a, tf.randomNormal(a.shape, 0, 30, 'float32', 4)) as tf.Tensor4D;
    expect(ssim(a, noisy)).toBeLessThan(0.9);
  });

  it('RMSE is symmetric and non-negative; PSNR decreases with more noise', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.double({ min: 1, max: 40, noNaN: true }), (seed, sd) => {
        const noise = tf.randomNormal(a.shape, 0, 1, 'float32', seed);
        const b = tf.add(a, tf.mul(noise, sd)) as tf.Tensor4D;
        const c = tf.add(a, tf.mul(noise, 2 * sd)) as tf.Tensor4D;
        expect(rmse(a, b)).toBeCloseTo(rmse(b, a), 4);
        expect(rmse(a, b)).toBeGreaterThanOrEqual(0);
        expect(psnr(a, c)).toBeLessThan(psnr(a, b));
        tf.dispose([noise, b, c]);
      }),
      { numRuns: 10 },
    );
  });

  it('diversity is 0 for identical samples and the pairwise RMSE otherwise', () => {
    const first = tf.slice(a, [0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
    const same = tf.concat([first, first, first]) as tf.Tensor4D;
    expect(diversity(same, 3)).toBe(0);
    const two = tf.concat([tf.slice(a, [0, 0, 0, 0], [1, -1, -1, -1]), tf.add(tf.slice(a, [0, 0, 0, 0], [1, -1, -1, -1]), 5)]) as tf.Tensor4D;
    expect(diversity(two, 2)).toBeCloseTo(5, 4);
  });
});

describe('bundled MNIST', () => {
  it('loads 32x32 digits with a 2-pixel empty border, deterministic per seed, and splits deterministically', () => {
    const m = loadMnist({ limit: 50, seed: 3 });
    expect(m.count).toBe(50);
    expect(m.images.length).toBe(50 * 32 * 32);
    for (let i = 0; i < 50; i++) for (let k = 0; k < 32; k++) expect(m.images[i * 1024 + k]).toBe(0);
    expect(Math.max(...m.images)).toBeGreaterThan(200);
    expect(loadMnist({ limit: 50, seed: 3 }).labels).toEqual(m.labels);
    expect(loadMnist({ limit: 50, seed: 4 }).labels).not.toEqual(m.labels);
    const s = splitTrainVal(100, 0.1, 0);
    expect(s.val).toHaveLength(10);
    expect(new Set([...s.train, ...s.val]).size).toBe(100);
    expect(splitTrainVal(100, 0.1, 0)).toEqual(s);
    const coloured = coloredMnist(m.images, 0);
    expect(coloured.length).toBe(m.images.length * 3);
  });
});

describe('PNG grids', () => {
  it('writes rows of images that decode back to the same pixels', async () => {
    const img = tf.tensor4d([0, 128, 255, 64], [1, 2, 2, 1]);
    const file = join(tmp, 'grid.png');
    await writeImageGrid(file, [img, img], { padding: 1, scale: 1 });
    const png = PNG.sync.read(readFileSync(file));
    expect([png.width, png.height]).toEqual([1 + 3, 1 + 3 + 3]);
    const at = (x: number, y: number): number => png.data[(y * png.width + x) * 4] as number;
    expect([at(1, 1), at(2, 1), at(1, 2), at(2, 2)]).toEqual([0, 128, 255, 64]);
    expect([at(1, 4), at(2, 5)]).toEqual([0, 64]);
    expect(at(0, 0)).toBe(255);
  });
});
