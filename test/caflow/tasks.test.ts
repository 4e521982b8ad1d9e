/** Bicubic resizing and the tasks (how Y is made from W). */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist.js';
import {
  bicubicResize,
  centerSide,
  cubic,
  getTask,
  resampleMatrix,
  sobelMagnitude,
  taskNames,
  tasks,
  to8bit,
  type TaskName,
} from '../../src/tasks/index.js';

const values = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

/** Random 8-bit NHWC images. */
const random8bit = (shape: [number, number, number, number], seed: number): tf.Tensor4D =>
  tf.tidy(() => tf.floor(tf.randomUniform(shape, 0, 256, 'float32', seed)) as tf.Tensor4D);

let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before);
});

describe('bicubic resize', () => {
  // Keys' kernel with a = -0.5 at quarter steps, by hand:
  //   k(t) = 1.5|t|^3 - 2.5|t|^2 + 1 (|t| <= 1), -0.5|t|^3 + 2.5|t|^2 - 4|t| + 2 (1 < |t| < 2).
  const K025 = 0.8671875; // 1.5/64 - 2.5/16 + 1
  const K075 = 0.2265625; // 1.5*27/64 - 2.5*9/16 + 1
  const K125 = -0.0703125; // -0.5*125/64 + 2.5*25/16 - 5 + 2
  const K175 = -0.0234375; // -0.5*343/64 + 2.5*49/16 - 7 + 2

  it("is Keys' cubic kernel with a = -0.5", () => {
    expect(cubic(0)).toBe(1);
    expect(cubic(1)).toBe(0);
    expect(cubic(2)).toBe(0);
    expect(cubic(2.5)).toBe(0);
    expect(cubic(0.5)).toBeCloseTo(0.5625, 12);
    expect(cubic(1.5)).toBeCloseTo(-0.0625, 12);
    for (const [t, k] of [[0.25, K025], [0.75, K075], [1.25, K125], [1.75, K175]] as const) {
      expect(cubic(t)).toBeCloseTo(k, 12);
      expect(cubic(-t)).toBeCloseTo(k, 12);
    }
  });

  it('builds resampling matrices whose rows sum to 1', () => {
    for (const [a, b] of [[32, 8], [8, 32], [5, 7], [7, 5], [4, 1], [1, 4], [3, 3]] as const) {
      const m = resampleMatrix(a, b);
      expect(m.length).toBe(a * b);
      for (let i = 0; i < b; i++) expect(m.slice(i * a, (i + 1) * a).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
    // Same size: the identity (k vanishes at non-zero integers).
    const id = resampleMatrix(3, 3);
    expect(Array.from(id)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(() => resampleMatrix(0, 3)).toThrow(RangeError);
  });

  it('upscales x2 to hand-computed values, with mirrored edges', () => {
    // Output centres at input coordinates -0.25, 0.25, ..., 3.25. Output 0 (centre -0.25) takes taps
    // -2, -1, 0, 1 at distances 1.75, 0.75, 0.25, 1.25; taps -2 and -1 mirror to pixels 1 and 0.
    const up = values(tf.tidy(() => bicubicResize(tf.tensor4d([0, 10, 20, 30], [1, 1, 4, 1]), 1, 8)));
    expect(up[0]).toBeCloseTo(10 * K175 + 0 * K075 + 0 * K025 + 10 * K125, 4); // -0.9375
    expect(up[0]).toBeCloseTo(-0.9375, 4);
    // Output 1 (centre 0.25): taps -1, 0, 1, 2 at distances 1.25, 0.25, 0.75, 1.75.
    expect(up[1]).toBeCloseTo(0 * K125 + 0 * K025 + 10 * K075 + 20 * K175, 4); // 1.796875
    // Where all four taps are inside the image, cubic convolution reproduces a ramp exactly.
    for (let i = 3; i < 5; i++) expect(up[i]).toBeCloseTo(10 * ((i + 0.5) / 2 - 0.5), 4);
    // The mirror image at the other end.
    expect(up[7]).toBeCloseTo(30 - up[0]!, 4);
  });

  it('downscales x2 to hand-computed values with the kernel stretched by 2 (antialiasing)', () => {
    // Output 0 has centre 0.5; taps j = -3..4 with weights k((j - 0.5) / 2): 8 taps, weights summing
    // to 2 before normalisation. Taps -3, -2, -1 mirror to pixels 2, 1, 0; tap 4 to pixel 3.
    const x = [0, 10, 20, 30];
    const taps = [[20, K175], [10, K125], [0, K075], [0, K025], [10, K025], [20, K075], [30, K125], [30, K175]] as const;
    const expected0 = taps.reduce((s, [v, k]) => s + v * k, 0) / 2;
    expect(expected0).toBeCloseTo(4.609375, 12);
    const down = values(tf.tidy(() => bicubicResize(tf.tensor4d(x, [1, 4, 1, 1]), 2, 1)));
    expect(down[0]).toBeCloseTo(4.609375, 4);
    expect(down[1]).toBeCloseTo(30 - 4.609375, 4);
  });

  it('antialiases: a 1-pixel checkerboard downscaled by 4 becomes flat grey', () => {
    const board = tf.tidy(() => {
      const b = tf.buffer([1, 16, 16, 1]);
      for (let r = 0; r < 16; r++) for (let c = 0; c < 16; c++) b.set((r + c) % 2 === 0 ? 255 : 0, 0, r, c, 0);
      return b.toTensor() as tf.Tensor4D;
    });
    const v = values(bicubicResize(board, 4, 4));
    board.dispose();
    for (const p of v) expect(Math.abs(p - 127.5)).toBeLessThan(6);
  });

  it('keeps constant images constant, down then up, with any channels', () => {
    const x = tf.fill([2, 16, 16, 3], 77) as tf.Tensor4D;
    const y = tf.tidy(() => bicubicResize(bicubicResize(x, 4, 4), 16, 16));
    expect(y.shape).toEqual([2, 16, 16, 3]);
    expect(maxAbsDiff(y, x)).toBeLessThan(1e-3);
    tf.dispose([x, y]);
  });

  it('resamples height and width independently (separable) and keeps channels apart', () => {
    const x = random8bit([2, 8, 12, 3], 1);
    const y = bicubicResize(x, 5, 4);
    expect(y.shape).toEqual([2, 5, 4, 3]);
    // Channel 1 alone gives channel 1 of the whole.
    const c1 = tf.tidy(() => bicubicResize(tf.slice(x, [0, 0, 0, 1], [-1, -1, -1, 1]), 5, 4));
    const y1 = tf.slice(y, [0, 0, 0, 1], [-1, -1, -1, 1]);
    expect(maxAbsDiff(c1, y1)).toBeLessThan(1e-3);
    // Height first then width equals both at once.
    const twoStep = tf.tidy(() => bicubicResize(bicubicResize(x, 5, 12), 5, 4));
    expect(maxAbsDiff(twoStep, y)).toBeLessThan(1e-3);
    tf.dispose([x, y, c1, y1, twoStep]);
  });

  it('to8bit rounds and clips', () => {
    const t = tf.tensor4d([-3, 0.4, 127.6, 300], [1, 1, 4, 1]);
    expect(values(to8bit(t))).toEqual([0, 0, 128, 255]);
    t.dispose();
  });
});

describe('tasks', () => {
  const expectAll8bit = (v: ArrayLike<number>): void => {
    for (const p of Array.from(v)) if (!(Number.isInteger(p) && p >= 0 && p <= 255)) expect(p).toBe('an integer in 0..255');
  };

  it('has a registry of the five tasks, each named by its key', () => {
    expect([...taskNames].sort()).toEqual(Object.keys(tasks).sort());
    expect(taskNames).toEqual(['sr', 'colorize', 'inpaint-center', 'inpaint-right', 'sketch']);
    for (const name of taskNames) {
      expect(tasks[name].name).toBe(name);
      expect(getTask(name)).toBe(tasks[name]);
      expect(tasks[name].description.length).toBeGreaterThan(10);
    }
  });

  it('names the valid tasks when asked for an unknown one', () => {
    expect(() => getTask('deblur')).toThrow(/Unknown task 'deblur'.*sr, colorize, inpaint-center, inpaint-right, sketch/);
  });

  it.each(taskNames)('%s keeps N, H, W, declares its channels and gives 8-bit values', (name: TaskName) => {
    const task = getTask(name);
    for (const c of name === 'colorize' ? [3] : [1, 3]) {
      const w = random8bit([3, 32, 32, c], 7 + c);
      const y = task.makeCondition(w, 5);
      expect(y.shape).toEqual([3, 32, 32, task.conditionChannels(c)]);
      expectAll8bit(y.dataSync());
      tf.dispose([w, y]);
    }
  });

  it('every task maps any 8-bit image to 8-bit values of the declared shape (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...taskNames),
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        (name, n, side4, seed) => {
          const task = getTask(name);
          const c = name === 'colorize' ? 3 : 1;
          const w = random8bit([n, 4 * side4, 4 * side4, c], seed);
          const y = task.makeCondition(w);
          expect(y.shape).toEqual([n, 4 * side4, 4 * side4, task.conditionChannels(c)]);
          expectAll8bit(y.dataSync());
          tf.dispose([w, y]);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('super-resolution is bicubic down by 4 to 8 bits, then bicubic up, rounded and clipped', () => {
    const w = random8bit([2, 32, 32, 3], 11);
    const y = getTask('sr').makeCondition(w);
    const expected = tf.tidy(() => to8bit(bicubicResize(to8bit(bicubicResize(w, 8, 8)), 32, 32)));
    expect(maxAbsDiff(y, expected)).toBe(0);
    // Piecewise-constant 4x4 blocks are not reproduced exactly, but a constant image is.
    const flat = tf.fill([1, 16, 16, 1], 200) as tf.Tensor4D;
    const yFlat = getTask('sr').makeCondition(flat);
    expect(maxAbsDiff(yFlat, flat)).toBe(0);
    expect(() => tf.tidy(() => getTask('sr').makeCondition(tf.zeros([1, 30, 30, 1]) as tf.Tensor4D))).toThrow(/multiples of 4/);
    tf.dispose([w, y, expected, flat, yFlat]);
  });

  it('inpaint-center zeroes exactly the central 12x12 square of 32x32 (14% of the area)', () => {
    expect(centerSide(32, 32)).toBe(12);
    expect(centerSide(64, 64)).toBe(24); // the reference code's 24x24 on 64x64 CelebA
    const w = tf.fill([2, 32, 32, 3], 200) as tf.Tensor4D;
    const y = getTask('inpaint-center').makeCondition(w);
    const v = y.dataSync();
    for (let n = 0; n < 2; n++)
      for (let r = 0; r < 32; r++)
        for (let c = 0; c < 32; c++)
          for (let k = 0; k < 3; k++) {
            const inside = r >= 10 && r < 22 && c >= 10 && c < 22;
            const p = v[((n * 32 + r) * 32 + c) * 3 + k];
            if (p !== (inside ? 0 : 200)) expect({ n, r, c, k, p }).toBe(`${inside ? 0 : 200}`);
          }
    tf.dispose([w, y]);
  });

  it('inpaint-right zeroes exactly the right half and keeps the rest unchanged', () => {
    const w = random8bit([2, 8, 8, 1], 3);
    const wv = Array.from(w.dataSync());
    const v = values(getTask('inpaint-right').makeCondition(w));
    v.forEach((p, i) => expect(p).toBe(i % 8 >= 4 ? 0 : wv[i]));
    w.dispose();
  });

  it('colorize gives the BT.601 luma of known colours, as one channel', () => {
    const rgb = tf.tensor4d([255, 0, 0, 0, 255, 0, 0, 0, 255, 100, 100, 100, 255, 255, 255, 10, 20, 30], [1, 2, 3, 3]);
    const y = getTask('colorize').makeCondition(rgb);
    expect(y.shape).toEqual([1, 2, 3, 1]);
    // 0.299*255 = 76.245, 0.587*255 = 149.685, 0.114*255 = 29.07, 2.99+11.74+3.42 = 18.15
    expect(values(y)).toEqual([76, 150, 29, 100, 255, 18]);
    expect(() => tf.tidy(() => getTask('colorize').makeCondition(tf.zeros([1, 2, 2, 1]) as tf.Tensor4D))).toThrow(/3 channels/);
    expect(getTask('colorize').conditionChannels(3)).toBe(1);
    rgb.dispose();
  });

  it('sketch marks the edges of a square, not its flat inside or outside, nor the image border', () => {
    const img = tf.tidy(() => {
      const b = tf.buffer([1, 16, 16, 1]);
      for (let r = 0; r < 16; r++) for (let c = 0; c < 16; c++) b.set(r >= 4 && r < 12 && c >= 4 && c < 12 ? 255 : 100, 0, r, c, 0);
      return b.toTensor() as tf.Tensor4D;
    });
    const e = values(getTask('sketch').makeCondition(img));
    const at = (r: number, c: number): number => e[r * 16 + c] as number;
    expect([at(3, 8), at(4, 8), at(8, 3), at(8, 4), at(11, 8), at(12, 8)]).toEqual([255, 255, 255, 255, 255, 255]);
    expect([at(8, 8), at(6, 6), at(0, 0), at(0, 8), at(15, 15), at(1, 1)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(new Set(e)).toEqual(new Set([0, 255]));
    // A step of 100 -> 255 has Sobel magnitude 4 * 155 = 620 across it.
    expect(values(sobelMagnitude(img))[4 * 16 + 8]).toBeCloseTo(620, 3);
    img.dispose();
  });

  it('sketch of real MNIST digits outlines the strokes', () => {
    const m = loadMnist({ limit: 8, seed: 1 });
    const w = tf.tensor4d(Float32Array.from(m.images), [8, 32, 32, 1]);
    const e = values(getTask('sketch').makeCondition(w));
    const ink = m.images;
    let edges = 0;
    let nearInk = 0;
    for (let i = 0; i < e.length; i++)
      if (e[i] === 255) {
        edges += 1;
        const [n, r, c] = [Math.floor(i / 1024), Math.floor(i / 32) % 32, i % 32];
        let near = false;
        for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) near ||= (ink[n * 1024 + (r + dr) * 32 + c + dc] ?? 0) > 0;
        if (near) nearInk += 1;
      }
    expect(edges / e.length).toBeGreaterThan(0.05);
    expect(edges / e.length).toBeLessThan(0.5);
    expect(nearInk).toBe(edges); // every edge pixel touches a stroke
    tf.dispose(w);
  });
});
