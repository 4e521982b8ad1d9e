/**
 * CAFLOW assembled from specs: latent shapes, exact invertibility of the whole model, the integer
 * round trip of 8-bit data, the decomposition of the objective, sampling and ranking, no leaks.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  caflowConfig,
  caflowSpec,
  dequantize,
  encoderLatentShapes,
  fromLatents,
  initCaflow,
  latentShapes,
  logLikelihood,
  quantize,
  repeatEach,
  sample,
  toLatents,
  type CaflowConfig,
} from '../../src/caflow/index.js';
import { signature } from '../../src/interpreters/index.js';
import { encodeSpec } from '../../src/dsl/index.js';

const tiny = (overrides: Partial<CaflowConfig> = {}): CaflowConfig =>
  caflowConfig({
    target: [1, 8, 8],
    condition: [1, 8, 8],
    scales: 2,
    encoderDepth: 1,
    conditionalDepth: 1,
    encoderHidden: 4,
    conditionalHidden: 4,
    ...overrides,
  });

const pixels = (n: number, [c, h, w]: readonly [number, number, number], seed: number): tf.Tensor4D =>
  tf.floor(tf.randomUniform([n, h, w, c], 0, 256, 'float32', seed)) as tf.Tensor4D;

/** Largest |a - b| over tensors. */
const maxAbs = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

describe('latent shapes', () => {
  it('3x64x64 with 4 scales: z_0 6x32x32, z_1 12x16x16, z_2 24x8x8, z_3 96x4x4 (sum 12288)', () => {
    const expected = [
      [6, 32, 32],
      [12, 16, 16],
      [24, 8, 8],
      [96, 4, 4],
    ];
    expect(encoderLatentShapes([3, 64, 64], 4)).toEqual(expected);
    const m = caflowSpec(caflowConfig({ encoderDepth: 1, conditionalDepth: 1 }));
    expect(latentShapes(m).L).toEqual(expected);
    expect(expected.reduce((n, [c, h, w]) => n + (c as number) * (h as number) * (w as number), 0)).toBe(12288);
  });

  it.each([
    ['caflow, 3x32x32, 3 scales', { target: [3, 32, 32], condition: [3, 32, 32], scales: 3 }],
    ['colorization: grayscale Y, RGB W', { target: [3, 16, 16], condition: [1, 16, 16], scales: 2 }],
    ['dualglow, 1x16x16, 3 scales', { target: [1, 16, 16], condition: [1, 16, 16], scales: 3, variant: 'dualglow' }],
  ] as const)('%s: every G_i conserves the dimension of L_i', (_name, o) => {
    const m = caflowSpec(tiny(o as Partial<CaflowConfig>));
    const { L, D } = latentShapes(m);
    expect(L).toEqual(encoderLatentShapes(o.target, o.scales));
    expect(D).toEqual(encoderLatentShapes(o.condition, o.scales));
    m.priors.forEach((g, i) => {
      const sig = signature(g);
      const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
      expect(sig.ins).toEqual([L[i]]);
      expect(sig.outs.reduce((n, s) => n + size(s), 0)).toBe(size(L[i] as readonly number[]));
      // CAFLOW: one latent per scale i..n-1, conditioned on D_i and the coarser L_j, D_j; Dual-Glow+: D_i only.
      const caflow = (o as { variant?: string }).variant !== 'dualglow';
      expect(sig.outs).toHaveLength(caflow ? o.scales - i : 1);
      const expectedCond = caflow ? ['D' + i, ...Array.from({ length: o.scales - 1 - i }, (_, k) => [`L${i + 1 + k}`, `D${i + 1 + k}`]).flat()] : ['D' + i];
      expect(Object.keys(sig.cond).sort()).toEqual(expectedCond.sort());
    });
  });

  it('rejects sizes the scales cannot divide, with a message that says what to change', () => {
    expect(() => caflowSpec(tiny({ target: [1, 12, 12], condition: [1, 12, 12], scales: 2 }))).toThrow(
      'an image of 12x12 cannot be split into 2 scales: H and W must be divisible by 2^(scales+1) = 8',
    );
  });

  it('the model is data: its specs serialise to JSON', () => {
    const m = caflowSpec(tiny());
    for (const g of [m.encoderY, m.encoderW, ...m.priors]) expect(JSON.parse(encodeSpec(g))).toEqual({ format: 'typed-flows/spec@1', ...(JSON.parse(JSON.stringify(g)) as object) });
  });
});

describe.each(['caflow', 'dualglow'] as const)('%s as one bijection given Y', (variant) => {
  const m = caflowSpec(tiny({ variant }));
  const w8 = pixels(4, [1, 8, 8], 1);
  const y8 = pixels(4, [1, 8, 8], 2);
  const w = dequantize(w8, 'center');
  const y = dequantize(y8, 'center');
  const params = initCaflow(m, { seed: 3, w, y });

  it('W -> latents -> W and latents -> W -> latents (float32, worst error reported)', () => {
    const enc = toLatents(m, params)(w, y);
    const dec = fromLatents(m, params)(enc.z, y);
    const rt = maxAbs(dec.w, w);
    // Pixels are O(100); 1e-3 absolute is a relative 1e-5, about 100 float32 ulps through ~40 layers.
    expect(rt).toBeLessThan(1e-3);
    expect(maxAbs(dec.logLikelihood, enc.logLikelihood)).toBeLessThan(1e-2);
    const z = enc.z.map((zi) => zi.map((t) => tf.randomNormal(t.shape) as tf.Tensor4D));
    const gen = fromLatents(m, params)(z, y);
    const back = toLatents(m, params)(gen.w, y);
    const worst = Math.max(...z.flatMap((zi, i) => zi.map((t, j) => maxAbs(back.z[i]?.[j] as tf.Tensor, t))));
    expect(worst).toBeLessThan(1e-3);
    console.log(`${variant}: worst |W - W'| = ${rt.toExponential(2)}, worst |z - z'| = ${worst.toExponential(2)}`);
  });

  it('8-bit data with u = 0.5 comes back pixel-exact after quantising', () => {
    const enc = toLatents(m, params)(w, y);
    const back = quantize(fromLatents(m, params)(enc.z, y).w);
    expect(tf.sum(tf.notEqual(back, w8)).dataSync()[0]).toBe(0);
  });

  it('the joint log-likelihood is the sum of its parts computed separately', () => {
    const ll = logLikelihood(m, params)(w, y);
    const parts = tf.add(tf.mul(ll.logpY, m.lambda), ll.priors.reduce((a, b) => tf.add(a, b), ll.logDetT));
    expect(maxAbs(ll.joint, parts)).toBeLessThan(1e-3);
    // log p(W|Y) from the latents path agrees with the objective's.
    expect(maxAbs(toLatents(m, params)(w, y).logLikelihood, ll.conditional)).toBeLessThan(1e-2);
  });

  it('samples k per condition in one batch, ranked by their exact log-likelihood', () => {
    const k = 3;
    const s = sample(m, params)(y.slice(0, 2), { k, temperature: 0.7, seed: 5 });
    expect(s.w.shape).toEqual([2 * k, 8, 8, 1]);
    const ll = Array.from(s.logLikelihood.dataSync());
    for (let b = 0; b < 2; b++) for (let j = 1; j < k; j++) expect(ll[b * k + j]).toBeLessThanOrEqual(ll[b * k + j - 1] as number);
    // The reported log-likelihood is that of the returned image under the density.
    const check = logLikelihood(m, params)(s.w, tf.gather(y.slice(0, 2), [0, 0, 0, 1, 1, 1]) as tf.Tensor4D);
    expect(maxAbs(check.conditional, s.logLikelihood)).toBeLessThan(1e-2);
  });

  it('sampling is reproducible for every seed, 0 included (tfjs treats a Gaussian seed of 0 as none)', () => {
    for (const seed of [0, 1]) {
      const a = sample(m, params)(y.slice(0, 1), { k: 2, temperature: 0.7, seed });
      const b = sample(m, params)(y.slice(0, 1), { k: 2, temperature: 0.7, seed });
      expect(Array.from(a.w.dataSync())).toEqual(Array.from(b.w.dataSync()));
      tf.dispose([a.w, a.logLikelihood, b.w, b.logLikelihood]);
    }
  });

  it('leaves no tensors behind across likelihood and sampling calls', () => {
    const run = (): void => {
      const ll = logLikelihood(m, params)(w, y);
      tf.dispose([ll.joint, ll.conditional, ll.logpY, ll.logDetT, ...ll.priors]);
      const s = sample(m, params)(y, { k: 2, seed: 1 });
      tf.dispose([s.w, s.logLikelihood]);
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('repeatEach', () => {
  it('property: row b*k + j is sample b, for every j < k (as tf.tile of a new axis would give)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), (b, k, c) => {
        tf.tidy(() => {
          const t = tf.randomNormal([b, 2, 3, c], 0, 1, 'float32', b * 100 + k * 10 + c) as tf.Tensor4D;
          const got = repeatEach(t, k);
          expect(got.shape).toEqual([b * k, 2, 3, c]);
          const tiled = tf.reshape(tf.tile(tf.expandDims(t, 1), [1, k, 1, 1, 1]), [b * k, 2, 3, c]);
          expect(Array.from(got.dataSync())).toEqual(Array.from(tiled.dataSync()));
        });
      }),
      { numRuns: 30 },
    );
  });
});
