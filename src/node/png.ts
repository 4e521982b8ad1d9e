/**
 * PNG grids of 8-bit images (encoded with pngjs), written atomically (temp file + rename).
 * Rows are laid out top to bottom, the images of a row left to right, with `padding` white pixels
 * around and between them; each image is upscaled by `scale` with nearest neighbour. All images
 * share one H, W and C (1 = grey, written as a greyscale PNG; 3 = RGB); values are rounded and
 * clipped to 0..255. Rows may hold different numbers of images (short rows are padded with white).
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { crc32 } from 'node:zlib';
import { PNG } from 'pngjs';

/** The text of the `Software` chunk of every grid: how the CLI knows a PNG is its own earlier output. */
export const PNG_SOFTWARE = 'typed-flows image grid';

/** `png` with a tEXt chunk (keyword, NUL, text) right after its IHDR chunk (8 + 25 bytes). */
const withText = (png: Buffer, keyword: string, text: string): Buffer => {
  const body = Buffer.concat([Buffer.from('tEXt', 'latin1'), Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]);
  const chunk = Buffer.alloc(body.length + 8);
  chunk.writeUInt32BE(body.length - 4, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), body.length + 4);
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
};

export interface GridOptions {
  /** White pixels around and between images. Default 2. */
  readonly padding?: number;
  /** Nearest-neighbour upscaling factor. Default 1. */
  readonly scale?: number;
}

const byte = (v: number): number => (v >= 255 ? 255 : v > 0 ? Math.round(v) : 0);

/** The PNG file bytes of a grid of images (see the file comment). */
export const encodeImageGrid = (rows: readonly tf.Tensor4D[], options: GridOptions = {}): Buffer => {
  const pad = options.padding ?? 2;
  const scale = options.scale ?? 1;
  if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`image grid: padding must be a non-negative integer, got ${pad}`);
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`image grid: scale must be a positive integer, got ${scale}`);
  const first = rows[0];
  if (first === undefined) throw new RangeError('image grid: no rows');
  const [, h, w, c] = first.shape;
  if (c !== 1 && c !== 3) throw new RangeError(`image grid: images must have 1 or 3 channels, got ${c}`);
  for (const row of rows)
    if (row.shape[1] !== h || row.shape[2] !== w || row.shape[3] !== c)
      throw new RangeError(`image grid: every image must be ${h}x${w}x${c}, got ${row.shape.slice(1).join('x')}`);
  const cols = Math.max(1, ...rows.map((r) => r.shape[0]));
  const cellW = w * scale + pad;
  const cellH = h * scale + pad;
  const png = new PNG({ width: cols * cellW + pad, height: rows.length * cellH + pad });
  png.data.fill(255);
  rows.forEach((row, r) => {
    const data = row.dataSync();
    for (let i = 0; i < row.shape[0]; i++)
      for (let y = 0; y < h * scale; y++) {
        const srcRow = (i * h + Math.floor(y / scale)) * w;
        const dstRow = (pad + r * cellH + y) * png.width + pad + i * cellW;
        for (let x = 0; x < w * scale; x++) {
          const src = (srcRow + Math.floor(x / scale)) * c;
          const dst = (dstRow + x) * 4;
          for (let k = 0; k < 3; k++) png.data[dst + k] = byte(data[src + (c === 3 ? k : 0)] as number);
        }
      }
  });
  // colorType 0 = greyscale, 2 = RGB (from pngjs's RGBA buffer); no alpha channel in the file.
  return withText(PNG.sync.write(png, { colorType: c === 1 ? 0 : 2 }), 'Software', PNG_SOFTWARE);
};

/** Writes `bytes` to `path` (creating its folder) via a temporary file in the same folder and a rename. */
export const writeFileAtomically = async (path: string, bytes: Uint8Array | string): Promise<void> => {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
};

/** Writes the grid to `path` atomically (see writeFileAtomically). */
export const writeImageGrid = async (path: string, rows: readonly tf.Tensor4D[], options: GridOptions = {}): Promise<void> =>
  writeFileAtomically(path, encodeImageGrid(rows, options));

/** `png` with a `Software` text chunk: how the CLI marks the images it writes. */
export const withSoftware = (png: Buffer, software: string): Buffer => withText(png, 'Software', software);
