/**
 * A user's images, in one of three layouts:
 * - 'single': PNG/JPEG files anywhere under the folder (FFHQ, CelebA, LSUN exports); the task makes
 *   the conditions;
 * - 'paired': subfolders A (conditions) and B (targets) with matching file names;
 * - 'side-by-side': each file holds [condition | target] side by side (pix2pix's edges2shoes).
 * Every image is centre-cropped to a square and resized (bicubic) to size x size RGB. Unreadable or
 * odd files are reported and skipped, never fatal.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { bicubicResize, to8bit } from '../tasks/resize.js';

export interface ImageFolder {
  /** count x size x size x 3 bytes. */
  readonly targets: Uint8Array;
  /** Paired layouts only: the A images, same layout. */
  readonly conditions?: Uint8Array;
  readonly count: number;
  readonly skipped: ReadonlyArray<{ readonly file: string; readonly reason: string }>;
}

const IMAGE = new Set(['.png', '.jpg', '.jpeg']);

/** Decodes one file to RGB bytes. */
export const decodeImage = (file: string): { data: Uint8Array; width: number; height: number } => {
  const bytes = readFileSync(file);
  const ext = extname(file).toLowerCase();
  const rgba = ext === '.png' ? PNG.sync.read(bytes) : jpeg.decode(bytes, { useTArray: true, maxMemoryUsageInMB: 512 });
  const { width, height } = rgba;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = rgba.data[p * 4 + c] as number;
  return { data, width, height };
};

/** Image files under `dir` (recursively), as paths relative to it, sorted. */
const listImages = (dir: string, prefix = ''): string[] =>
  readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => {
      const rel = prefix === '' ? e.name : join(prefix, e.name);
      if (e.isDirectory()) return listImages(dir, rel);
      return e.isFile() && IMAGE.has(extname(e.name).toLowerCase()) ? [rel] : [];
    })
    .sort();

export type FolderLayout = 'single' | 'paired' | 'side-by-side';

/** Resizes one decoded image to size x size (centre-cropped to a square first). */
const toSquare = (img: { data: Uint8Array; width: number; height: number }, size: number): Uint8Array =>
  tf.tidy(() => {
    const side = Math.min(img.width, img.height);
    const top = Math.floor((img.height - side) / 2);
    const left = Math.floor((img.width - side) / 2);
    const t = tf.slice(tf.tensor4d(Float32Array.from(img.data), [1, img.height, img.width, 3]), [0, top, left, 0], [1, side, side, 3]) as tf.Tensor4D;
    return Uint8Array.from(to8bit(bicubicResize(t, size, size)).dataSync());
  });

/** The left and right halves of a side-by-side pair. */
const halves = (img: { data: Uint8Array; width: number; height: number }): [typeof img, typeof img] => {
  const half = Math.floor(img.width / 2);
  const part = (from: number): typeof img => {
    const data = new Uint8Array(half * img.height * 3);
    for (let r = 0; r < img.height; r++) data.set(img.data.subarray((r * img.width + from) * 3, (r * img.width + from + half) * 3), r * half * 3);
    return { data, width: half, height: img.height };
  };
  return [part(0), part(half)];
};

export const loadImageFolder = async (path: string, options: { readonly size: number; readonly layout: FolderLayout }): Promise<ImageFolder> => {
  const paired = options.layout !== 'single';
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    const problem = existsSync(path) ? 'is a file, not a folder' : 'does not exist';
    throw new Error(`Image folder '${path}' ${problem}. Set data.path in the config to a folder of PNG/JPEG images${options.layout === 'paired' ? ' with subfolders A (conditions) and B (targets)' : ''}.`);
  }
  const skipped: Array<{ file: string; reason: string }> = [];
  const load = (file: string): Uint8Array | undefined => {
    try {
      return toSquare(decodeImage(file), options.size);
    } catch (e) {
      skipped.push({ file, reason: (e as Error).message });
      return undefined;
    }
  };
  const targets: Uint8Array[] = [];
  const conditions: Uint8Array[] = [];
  if (options.layout === 'side-by-side') {
    for (const name of listImages(path)) {
      try {
        const img = decodeImage(join(path, name));
        if (img.width < 2 * 4 || img.width % 2 !== 0) throw new Error(`width ${img.width} is not two images side by side`);
        const [a, b] = halves(img);
        conditions.push(toSquare(a, options.size));
        targets.push(toSquare(b, options.size));
      } catch (e) {
        skipped.push({ file: join(path, name), reason: (e as Error).message });
      }
    }
  } else if (options.layout === 'paired') {
    const a = join(path, 'A');
    const b = join(path, 'B');
    if (!existsSync(a) || !existsSync(b)) throw new Error(`Paired data needs '${a}' (conditions) and '${b}' (targets) with matching file names.`);
    const inB = new Set(listImages(b));
    for (const name of listImages(a)) {
      if (!inB.has(name)) {
        skipped.push({ file: join(a, name), reason: 'no target of the same name in B' });
        continue;
      }
      const y = load(join(a, name));
      const w = load(join(b, name));
      if (y !== undefined && w !== undefined) {
        conditions.push(y);
        targets.push(w);
      }
    }
  } else {
    for (const name of listImages(path)) {
      const w = load(join(path, name));
      if (w !== undefined) targets.push(w);
    }
  }
  for (const s of skipped) console.error(`typed-flows: skipped ${s.file}: ${s.reason}`);
  if (targets.length === 0) throw new Error(`No readable PNG/JPEG images in '${path}'${skipped.length > 0 ? ` (${skipped.length} skipped)` : ''}.`);
  const concat = (parts: Uint8Array[]): Uint8Array => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  };
  return { targets: concat(targets), ...(paired ? { conditions: concat(conditions) } : {}), count: targets.length, skipped };
};
