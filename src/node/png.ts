/** PNG grids of 8-bit images (pngjs), written atomically. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';

export interface GridOptions {
  /** Pixels between images (drawn white). Default 2. */
  readonly padding?: number;
  /** Nearest-neighbour upscaling. Default 1. */
  readonly scale?: number;
}

/** Rows top to bottom, each a batch of images left to right; 1 or 3 channels, values 0-255. */
export const encodeImageGrid = (rows: readonly tf.Tensor4D[], options: GridOptions = {}): Buffer => {
  const pad = options.padding ?? 2;
  const scale = options.scale ?? 1;
  const first = rows[0];
  if (first === undefined) throw new RangeError('encodeImageGrid: no rows');
  const [, h, w, c] = first.shape;
  const cols = Math.max(...rows.map((r) => r.shape[0]));
  const cell = (n: number): number => n * scale + pad;
  const png = new PNG({ width: cols * cell(w) + pad, height: rows.length * cell(h) + pad });
  png.data.fill(255);
  rows.forEach((row, r) => {
    if (row.shape[1] !== h || row.shape[2] !== w || row.shape[3] !== c) throw new RangeError('encodeImageGrid: every image must have the same shape');
    const data = row.dataSync();
    for (let i = 0; i < row.shape[0]; i++)
      for (let y = 0; y < h * scale; y++)
        for (let x = 0; x < w * scale; x++) {
          const src = ((i * h + Math.floor(y / scale)) * w + Math.floor(x / scale)) * c;
          const dst = ((pad + r * cell(h) + y) * png.width + pad + i * cell(w) + x) * 4;
          for (let k = 0; k < 3; k++) png.data[dst + k] = Math.max(0, Math.min(255, Math.round(data[src + (c === 3 ? k : 0)] as number)));
          png.data[dst + 3] = 255;
        }
  });
  return PNG.sync.write(png);
};

export const writeImageGrid = async (file: string, rows: readonly tf.Tensor4D[], options: GridOptions = {}): Promise<void> => {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, encodeImageGrid(rows, options));
  await rename(tmp, file);
};
