/**
 * LPIPS (net='alex', v0.1): metric properties on random weights, weights validation, and a
 * cross-check against the same network in PyTorch (tools/lpips_reference.py) when torch is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, decodeSafetensors, type SafeTensor } from '../../src/io/safetensors.js';
import {
  disposeLpipsWeights,
  lpips,
  lpipsFeatureSizes,
  lpipsPerImage,
  lpipsWeightsFromTensors,
  type LpipsWeights,
} from '../../src/metrics/lpips.js';
import { randomLpipsTensors } from '../support/perceptual-fixtures.js';

const randomTensors = randomLpipsTensors;

const weights = lpipsWeightsFromTensors(randomTensors(1));
afterAll(() => disposeLpipsWeights(weights));

const images = (seed: number, n: number, h: number, w: number, c: number): tf.Tensor4D =>
  tf.tidy(() => tf.floor(tf.randomUniform([n, h, w, c], 0, 256, 'float32', seed)) as tf.Tensor4D);

describe('LPIPS feature map sizes', () => {
  it('32x32 (MNIST) gives maps of 7, 3, 1, 1, 1 pixels, as PyTorch AlexNet does', () => {
    expect(lpipsFeatureSizes(32, 32)).toEqual([[7, 7], [3, 3], [1, 1], [1, 1], [1, 1]]);
    expect(lpipsFeatureSizes(64, 64)).toEqual([[15, 15], [7, 7], [3, 3], [3, 3], [3, 3]]);
    expect(lpipsFeatureSizes(31, 31).length).toBe(5);
  });

  it('images below 31x31 fail with a clear error', () => {
    expect(() => lpipsFeatureSizes(30, 64)).toThrow(/30x64 images are too small.*at least 31x31/);
    const a = images(1, 1, 16, 16, 1);
    expect(() => lpips(weights, a, a)).toThrow(/too small/);
    a.dispose();
  });
});

describe('LPIPS as a metric (random weights)', () => {
  const seeds = fc.integer({ min: 0, max: 1_000_000 });

  it('is 0 on identical images, symmetric and non-negative; no tensors leak', () => {
    fc.assert(
      fc.property(seeds, fc.constantFrom(1, 3), (seed, c) => {
        const a = images(seed, 2, 32, 32, c);
        const b = images(seed + 1, 2, 32, 32, c);
        const before = tf.memory().numTensors;
        const same = lpipsPerImage(weights, a, a);
        const ab = lpipsPerImage(weights, a, b);
        const ba = lpipsPerImage(weights, b, a);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([a, b]);
        // Identical inputs give bit-identical features, so the differences are exactly 0.
        expect(Array.from(same)).toEqual([0, 0]);
        // (f_a - f_b)^2 and (f_b - f_a)^2 are the same floats, so swapping is exact.
        expect(Array.from(ba)).toEqual(Array.from(ab));
        for (const d of ab) expect(d).toBeGreaterThan(0);
      }),
      { numRuns: 8 },
    );
  });

  it('is batch-consistent: each pair scores the same alone and in any batch size', () => {
    const a = images(7, 5, 40, 36, 3);
    const b = images(8, 5, 40, 36, 3);
    const together = lpipsPerImage(weights, a, b);
    const ones = lpipsPerImage(weights, a, b, { batchSize: 1 });
    const twos = lpipsPerImage(weights, a, b, { batchSize: 2 });
    const third = tf.tidy(() => [tf.slice(a, [2, 0, 0, 0], [1, -1, -1, -1]), tf.slice(b, [2, 0, 0, 0], [1, -1, -1, -1])] as [tf.Tensor4D, tf.Tensor4D]);
    const alone = lpipsPerImage(weights, third[0], third[1]);
    const mean = lpips(weights, a, b);
    tf.dispose([a, b, ...third]);
    // Convolutions treat batch entries independently; 1e-6 relative allows a backend that blocks the
    // batch differently to sum in another order (float32 rounding is ~1e-7 per operation).
    for (let i = 0; i < 5; i++) {
      expect(ones[i]).toBeCloseTo(together[i] as number, 6);
      expect(twos[i]).toBeCloseTo(together[i] as number, 6);
    }
    expect(alone[0]).toBeCloseTo(together[2] as number, 6);
    expect(mean).toBeCloseTo(together.reduce((s, x) => s + x, 0) / 5, 6);
  });

  it('scores a grey image as its 3-channel repeat', () => {
    const a = images(3, 2, 32, 32, 1);
    const b = images(4, 2, 32, 32, 1);
    const [a3, b3] = tf.tidy(() => [tf.tile(a, [1, 1, 1, 3]), tf.tile(b, [1, 1, 1, 3])] as [tf.Tensor4D, tf.Tensor4D]);
    expect(Array.from(lpipsPerImage(weights, a, b))).toEqual(Array.from(lpipsPerImage(weights, a3, b3)));
    tf.dispose([a, b, a3, b3]);
  });
});

describe('LPIPS weights validation', () => {
  it('accepts the state_dict of lpips.LPIPS(net=alex), with or without the scaling buffers', () => {
    const t = randomTensors(2);
    t.set('scaling_layer.shift', { dtype: 'F32', shape: [1, 3, 1, 1], data: Float32Array.from([-0.03, -0.088, -0.188]) });
    t.set('scaling_layer.scale', { dtype: 'F32', shape: [1, 3, 1, 1], data: Float32Array.from([0.458, 0.448, 0.45]) });
    // lpips.LPIPS registers its lin layers twice (lin{l} and the ModuleList lins.{l}); state_dict has both.
    t.set('lins.2.model.1.weight', t.get('lin2.model.1.weight') as SafeTensor);
    const w: LpipsWeights = lpipsWeightsFromTensors(t);
    expect(w.convs[0]?.kernel.shape).toEqual([11, 11, 3, 64]);
    expect(w.lins[2]?.shape).toEqual([1, 1, 384, 1]);
    disposeLpipsWeights(w);
  });

  it('lists every missing, unexpected, misshaped and non-float tensor in one error', () => {
    const t = randomTensors(3);
    t.delete('net.slice3.6.bias');
    t.delete('lin4.model.1.weight');
    t.set('lin5.model.1.weight', { dtype: 'F32', shape: [1, 512, 1, 1], data: new Float32Array(512) });
    t.set('net.slice1.0.weight', { dtype: 'F32', shape: [64, 3, 11, 10], data: new Float32Array(64 * 3 * 11 * 10) });
    t.set('net.slice2.3.bias', { dtype: 'I32', shape: [192], data: new Int32Array(192) });
    t.set('lins.1.model.1.weight', { dtype: 'F32', shape: [1, 64, 1, 1], data: new Float32Array(64) });
    let error: unknown;
    try {
      lpipsWeightsFromTensors(t);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheckpointError);
    const problems = (error as CheckpointError).problems.join('\n');
    expect(problems).toContain('missing tensor "net.slice3.6.bias" (shape [384])');
    expect(problems).toContain('missing tensor "lin4.model.1.weight" (shape [1,256,1,1])');
    expect(problems).toContain('unexpected tensor "lin5.model.1.weight"');
    expect(problems).toContain('"net.slice1.0.weight" has shape [64,3,11,10], expected [64,3,11,11]');
    expect(problems).toContain('"net.slice2.3.bias" has dtype I32, expected F32');
    expect(problems).toContain('"lins.1.model.1.weight" has shape [1,64,1,1], expected [1,192,1,1]');
    expect((error as CheckpointError).problems).toHaveLength(6);
  });

  it('rejects lins.{l} that differ from lin{l}', () => {
    const t = randomLpipsTensors(4);
    t.set('lins.0.model.1.weight', { dtype: 'F32', shape: [1, 64, 1, 1], data: new Float32Array(64) });
    expect(() => lpipsWeightsFromTensors(t)).toThrow(/"lins.0.model.1.weight" and "lin0.model.1.weight" differ/);
  });
});

const python = '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

describe('LPIPS against PyTorch', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-lpips-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** Runs tools/lpips_reference.py on image pairs; returns our and PyTorch's distances and the weights. */
  const crossCheck = (name: string, a: tf.Tensor4D, b: tf.Tensor4D) => {
    const pairs = join(tmp, `${name}.json`);
    const file = join(tmp, `${name}.safetensors`);
    writeFileSync(pairs, JSON.stringify({ shape: a.shape, a: Array.from(a.dataSync()), b: Array.from(b.dataSync()) }));
    const r = spawnSync(python, ['tools/lpips_reference.py', '--seed', '0', '--weights', file, '--pairs', pairs], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const torch = JSON.parse(r.stdout) as { float32: number[]; float64: number[] };
    const w = lpipsWeightsFromTensors(decodeSafetensors(new Uint8Array(readFileSync(file))).tensors);
    const ours = Array.from(lpipsPerImage(w, a, b));
    disposeLpipsWeights(w);
    return { ours, ...torch };
  };

  it.skipIf(!hasTorch)('matches PyTorch on 32x32 grey, 64x64 RGB and odd-sized 35x47 images (skipped without /usr/bin/python3 + torch)', () => {
    const cases: Array<[string, tf.Tensor4D, tf.Tensor4D]> = [
      ['mnist', images(11, 3, 32, 32, 1), images(12, 3, 32, 32, 1)],
      ['rgb64', images(13, 2, 64, 64, 3), images(14, 2, 64, 64, 3)],
      // A near pair: small distances, where cancellation in f_a - f_b would show first.
      ['odd', images(15, 1, 35, 47, 3), tf.tidy(() => tf.clipByValue(tf.add(images(15, 1, 35, 47, 3), tf.round(tf.randomNormal([1, 35, 47, 3], 0, 3, 'float32', 16))), 0, 255) as tf.Tensor4D)],
    ];
    let worst = 0;
    let worstTorch32 = 0;
    const all: number[] = [];
    for (const [name, a, b] of cases) {
      const { ours, float32, float64 } = crossCheck(name, a, b);
      tf.dispose([a, b]);
      expect(ours).toHaveLength(float64.length);
      ours.forEach((d, i) => {
        const ref = float64[i] as number;
        const rel = Math.abs(d - ref) / ref;
        worst = Math.max(worst, rel);
        worstTorch32 = Math.max(worstTorch32, Math.abs((float32[i] as number) - ref) / ref);
        all.push(ref);
        // Both sides run in float32 through ~10^3-term dot products and a division by the feature norm;
        // the observed gap to float64 is ~1e-6 relative (float32 PyTorch's is the same order), so
        // 1e-4 relative leaves two orders of margin and still catches any layout or padding mistake,
        // which changes feature maps wholesale (tfjs 'same' padding even changes their sizes).
        expect(rel, `${name}[${i}]: ours ${d}, torch float64 ${ref}, torch float32 ${float32[i]}`).toBeLessThan(1e-4);
      });
    }
    console.log(
      `LPIPS cross-check on ${all.length} pairs (distances ${Math.min(...all).toFixed(5)}..${Math.max(...all).toFixed(5)}): ` +
        `worst relative gap to PyTorch float64 ${worst.toExponential(2)} (PyTorch float32's own: ${worstTorch32.toExponential(2)})`,
    );
  });
});
