/** A user's image folders: the three layouts, JPEG and PNG, and bad files skipped rather than fatal. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadImageFolder } from '../../src/data/folder.js';

const root = mkdtempSync(join(tmpdir(), 'typed-flows-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A width x height RGB image whose pixels are f(x, y). */
const png = (file: string, width: number, height: number, f: (x: number, y: number) => [number, number, number]): void => {
  const img = new PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, g, b] = f(x, y);
      img.data.set([r, g, b, 255], (y * width + x) * 4);
    }
  writeFileSync(file, PNG.sync.write(img));
};

describe('loadImageFolder', () => {
  it("'single' finds images in subfolders (FFHQ-style), reads JPEG and PNG, skips corrupt files", async () => {
    const dir = join(root, 'single');
    mkdirSync(join(dir, '00000'), { recursive: true });
    png(join(dir, '00000', 'a.png'), 16, 16, () => [200, 100, 50]);
    png(join(dir, 'b.png'), 20, 12, () => [10, 20, 30]); // not square: centre-cropped
    const raw = Buffer.alloc(16 * 16 * 4, 128);
    writeFileSync(join(dir, 'c.jpg'), jpeg.encode({ data: raw, width: 16, height: 16 }, 95).data);
    writeFileSync(join(dir, 'broken.png'), 'not a png');
    const f = await loadImageFolder(dir, { size: 8, layout: 'single' });
    expect(f.count).toBe(3);
    expect(f.targets.length).toBe(3 * 8 * 8 * 3);
    expect(f.skipped.map((s) => s.file)).toEqual([join(dir, 'broken.png')]);
    expect(Array.from(f.targets.subarray(0, 3))).toEqual([200, 100, 50]);
    expect(Math.abs((f.targets[3 * 64 * 2] as number) - 128)).toBeLessThan(4);
  });

  it("'paired' matches A and B by name; 'side-by-side' splits [condition | target]", async () => {
    const dir = join(root, 'paired');
    mkdirSync(join(dir, 'A'), { recursive: true });
    mkdirSync(join(dir, 'B'), { recursive: true });
    png(join(dir, 'A', 'x.png'), 8, 8, () => [255, 255, 255]);
    png(join(dir, 'B', 'x.png'), 8, 8, () => [0, 0, 255]);
    png(join(dir, 'A', 'lonely.png'), 8, 8, () => [1, 1, 1]);
    const p = await loadImageFolder(dir, { size: 8, layout: 'paired' });
    expect(p.count).toBe(1);
    expect(Array.from(p.conditions!.subarray(0, 3))).toEqual([255, 255, 255]);
    expect(Array.from(p.targets.subarray(0, 3))).toEqual([0, 0, 255]);
    expect(p.skipped[0]?.reason).toContain('no target');

    const sbs = join(root, 'sbs');
    mkdirSync(sbs);
    png(join(sbs, 'pair.png'), 16, 8, (x) => (x < 8 ? [0, 0, 0] : [255, 0, 0]));
    const s = await loadImageFolder(sbs, { size: 8, layout: 'side-by-side' });
    expect(Array.from(s.conditions!.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(s.targets.subarray(0, 3))).toEqual([255, 0, 0]);
  });

  it('a missing folder says what to set', async () => {
    await expect(loadImageFolder(join(root, 'nope'), { size: 8, layout: 'single' })).rejects.toThrow('Set data.path');
    await expect(loadImageFolder(join(root, 'nope'), { size: 8, layout: 'single' })).rejects.toThrow('does not exist');
  });

  it('a file given as the folder is called a file, not missing', async () => {
    const file = join(root, 'one.png');
    png(file, 8, 8, () => [1, 2, 3]);
    await expect(loadImageFolder(file, { size: 8, layout: 'single' })).rejects.toThrow(`Image folder '${file}' is a file, not a folder. Set data.path`);
  });
});
