/** PNG image grids: written with pngjs, decoded back with pngjs and compared pixel by pixel. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeImageGrid, writeImageGrid } from '../../src/node/png.js';

const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-png-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before);
});

const decode = (file: string): PNG => PNG.sync.read(readFileSync(file));
/** RGB of pixel (x, y) of a decoded PNG (pngjs always decodes to RGBA). */
const rgbAt = (png: PNG, x: number, y: number): number[] => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));

describe('writeImageGrid', () => {
  it('writes rows of grey images that decode back to the same pixels, with white padding', async () => {
    const img = tf.tensor4d([0, 128, 255, 64], [1, 2, 2, 1]);
    const row2 = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
    const file = join(tmp, 'grey.png');
    await writeImageGrid(file, [img, row2], { padding: 1 });
    const png = decode(file);
    // 2 columns of 2 px + 3 paddings; 2 rows of 2 px + 3 paddings.
    expect([png.width, png.height]).toEqual([7, 7]);
    const grey = (x: number, y: number): number => {
      const [r, g, b] = rgbAt(png, x, y);
      expect(g).toBe(r);
      expect(b).toBe(r);
      return r!;
    };
    expect([grey(1, 1), grey(2, 1), grey(1, 2), grey(2, 2)]).toEqual([0, 128, 255, 64]);
    expect([grey(1, 4), grey(2, 4), grey(1, 5), grey(2, 5)]).toEqual([1, 2, 3, 4]);
    expect([grey(4, 4), grey(5, 4), grey(4, 5), grey(5, 5)]).toEqual([5, 6, 7, 8]);
    // Padding, and the empty cell right of the short first row, are white.
    for (const [x, y] of [[0, 0], [3, 1], [1, 3], [6, 6], [4, 1], [5, 2]] as const) expect(grey(x, y)).toBe(255);
    tf.dispose([img, row2]);
  });

  it('writes RGB images, upscaled by nearest neighbour, rounding and clipping values', async () => {
    // One 1x2 RGB image: red-ish (with out-of-range and fractional values) then blue.
    const img = tf.tensor4d([300, 10.4, -5, 0, 0, 254.6], [1, 1, 2, 3]);
    const file = join(tmp, 'nested', 'dir', 'rgb.png');
    await writeImageGrid(file, [img], { padding: 0, scale: 3 });
    const png = decode(file);
    expect([png.width, png.height]).toEqual([6, 3]);
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 6; x++) expect(rgbAt(png, x, y)).toEqual(x < 3 ? [255, 10, 0] : [0, 0, 255]);
    img.dispose();
  });

  it('compares pixel by pixel with a random batch, default padding 2', async () => {
    const batch = tf.tidy(() => tf.floor(tf.randomUniform([3, 5, 4, 3], 0, 256, 'float32', 2)) as tf.Tensor4D);
    const file = join(tmp, 'random.png');
    await writeImageGrid(file, [batch]);
    const png = decode(file);
    expect([png.width, png.height]).toEqual([3 * (4 + 2) + 2, 5 + 4]);
    const v = batch.dataSync();
    for (let i = 0; i < 3; i++)
      for (let r = 0; r < 5; r++)
        for (let c = 0; c < 4; c++) {
          const src = ((i * 5 + r) * 4 + c) * 3;
          expect(rgbAt(png, 2 + i * 6 + c, 2 + r)).toEqual([v[src], v[src + 1], v[src + 2]]);
        }
    batch.dispose();
  });

  it('writes greyscale PNGs for one channel and RGB without alpha for three', () => {
    const grey = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    const rgb = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    // IHDR's colour type byte: 0 = greyscale, 2 = truecolour.
    expect(encodeImageGrid([grey])[25]).toBe(0);
    expect(encodeImageGrid([rgb])[25]).toBe(2);
    tf.dispose([grey, rgb]);
  });

  it('replaces files atomically, leaving no temporary files, and rejects bad input before writing', async () => {
    const dir = join(tmp, 'atomic');
    const file = join(dir, 'grid.png');
    const img = tf.fill([1, 2, 2, 1], 9) as tf.Tensor4D;
    await writeImageGrid(file, [img]);
    writeFileSync(join(dir, 'other.txt'), 'x');
    await writeImageGrid(file, [img], { scale: 2 });
    expect(readdirSync(dir).sort()).toEqual(['grid.png', 'other.txt']);
    expect(decode(file).width).toBe(2 * 2 + 4);
    const bad = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D;
    const twoChannels = tf.zeros([1, 2, 2, 2]) as tf.Tensor4D;
    await expect(writeImageGrid(file, [img, bad])).rejects.toThrow(/same|must be 2x2x1/);
    await expect(writeImageGrid(file, [twoChannels])).rejects.toThrow(/1 or 3 channels/);
    await expect(writeImageGrid(file, [])).rejects.toThrow(/no rows/);
    await expect(writeImageGrid(file, [img], { scale: 0 })).rejects.toThrow(/scale/);
    expect(decode(file).width).toBe(2 * 2 + 4); // untouched
    expect(readdirSync(dir).sort()).toEqual(['grid.png', 'other.txt']);
    tf.dispose([img, bad, twoChannels]);
  });
});
