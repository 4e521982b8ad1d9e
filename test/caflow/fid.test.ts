/**
 * FID: the Fréchet distance against closed forms and as a metric (float64, so tolerances are near
 * rounding), and feature models loaded from model.json + shards (layers-model and graph-model).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { extractFeatures, prepareForFeatures } from '../../src/metrics/features.js';
import { fid, frechetDistance, gaussianStats, singularValues, symmetricEigen, type FeatureMatrix, type GaussianStats } from '../../src/metrics/fid.js';
import { loadFeatureModel, ModelFileError } from '../../src/node/tfjs-model.js';
import { saveLayersModel } from '../support/perceptual-fixtures.js';

/** n x d features from a seeded generator, with per-feature scales so the covariance is not isotropic. */
const features = (seed: number, n: number, d: number, shift = 0): FeatureMatrix => {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = (next() - 0.5) * (1 + j) + shift;
  return { rows: n, cols: d, data };
};

const diagonal = (mean: number[], variances: number[]): GaussianStats => {
  const d = mean.length;
  const cov = new Float64Array(d * d);
  variances.forEach((v, i) => (cov[i * d + i] = v));
  return { dim: d, mean: Float64Array.from(mean), cov };
};

/** A random SPD matrix L L^T + eps I as Gaussian statistics. */
const spd = fc.integer({ min: 1, max: 6 }).chain((d) =>
  fc.tuple(
    fc.constant(d),
    fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: d * d, maxLength: d * d }),
    fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: d, maxLength: d }),
  ),
).map(([d, l, mean]): GaussianStats => {
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = i === j ? 1e-3 : 0;
      for (let k = 0; k < d; k++) s += (l[i * d + k] as number) * (l[j * d + k] as number);
      cov[i * d + j] = s;
    }
  return { dim: d, mean: Float64Array.from(mean), cov };
});

describe('the Fréchet distance', () => {
  it('is 0 between identical feature sets, in sample space (n < d) and in feature space (n >= d)', () => {
    for (const [n, d] of [[20, 50], [60, 8]] as const) {
      const unit = features(1, n, d);
      const f = { ...unit, data: unit.data.map((v, i) => v / (1 + (i % d))) };
      // Unit-scale features: Tr S1 + Tr S2 is ~d/6 and cancels against 2 Tr (S1 S2)^{1/2}; float64
      // leaves ~1e-15 of that, so 1e-9 absolute is loose.
      expect(Math.abs(fid(f, f))).toBeLessThan(1e-9);
      // Scaled features (traces ~1e4): the same cancellation, relative to the traces.
      const g = gaussianStats(unit);
      const traces = 2 * Array.from({ length: d }, (_, j) => g.cov[j * d + j] as number).reduce((a, b) => a + b, 0);
      expect(Math.abs(fid(unit, unit)) / traces).toBeLessThan(1e-12);
    }
  });

  it('matches sum (sqrt a - sqrt b)^2 + |mu1 - mu2|^2 for diagonal covariances', () => {
    const a = [1, 4, 0.25, 9];
    const b = [2, 1, 0.5, 16];
    const m1 = [0, 1, 2, 3];
    const m2 = [1, 1, 0, -1];
    const expected = a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i] as number)) ** 2, 0) + m1.reduce((s, x, i) => s + (x - (m2[i] as number)) ** 2, 0);
    expect(frechetDistance(diagonal(m1, a), diagonal(m2, b))).toBeCloseTo(expected, 12);
  });

  it('from samples in 1-D is (sd1 - sd2)^2 + (m1 - m2)^2 with unbiased variances', () => {
    const x = [1, 2, 4, 7];
    const y = [0, 3, 3, 10, 12];
    const stats = (v: number[]) => {
      const m = v.reduce((s, t) => s + t, 0) / v.length;
      return { m, sd: Math.sqrt(v.reduce((s, t) => s + (t - m) ** 2, 0) / (v.length - 1)) };
    };
    const [sx, sy] = [stats(x), stats(y)];
    const value = fid({ rows: 4, cols: 1, data: Float64Array.from(x) }, { rows: 5, cols: 1, data: Float64Array.from(y) });
    expect(value).toBeCloseTo((sx.sd - sy.sd) ** 2 + (sx.m - sy.m) ** 2, 12);
  });

  it('on random SPD covariances: symmetric in its arguments, >= 0, and 0 against itself', () => {
    fc.assert(
      fc.property(spd, spd, (g1, g2) => {
        if (g1.dim !== g2.dim) return;
        const d12 = frechetDistance(g1, g2);
        const d21 = frechetDistance(g2, g1);
        const scale = 1 + g1.cov.reduce((s, x) => s + Math.abs(x), 0) + g2.cov.reduce((s, x) => s + Math.abs(x), 0);
        // Tr (S1 S2)^{1/2} = Tr (S2 S1)^{1/2} exactly; the two are computed by different rotations, so
        // agreement is to float64 rounding times the size of the entries.
        expect(Math.abs(d12 - d21)).toBeLessThan(1e-9 * scale);
        expect(d12).toBeGreaterThan(-1e-9 * scale);
        expect(Math.abs(frechetDistance(g1, g1))).toBeLessThan(1e-9 * scale);
      }),
      { numRuns: 200 },
    );
  });

  it('sample space and feature space give the same number', () => {
    // Full-rank covariances (n > d) so that the feature-space route is at full precision too.
    const f1 = features(2, 40, 30);
    const f2 = features(3, 45, 30, 0.3);
    const viaSamples = fid(f1, f2, { space: 'samples' });
    const viaFeatures = fid(f1, f2, { space: 'features' });
    expect(viaSamples).toBeGreaterThan(1);
    // Two exact formulas evaluated through different decompositions: float64 rounding only.
    expect(Math.abs(viaSamples - viaFeatures) / viaFeatures).toBeLessThan(1e-10);
  });

  it('singular values by one-sided Jacobi: a rank-1 matrix has one non-zero value, at rounding level elsewhere', () => {
    const u = [1, 2, 3];
    const v = [4, 5, 6, 7];
    const m = Float64Array.from(u.flatMap((a) => v.map((b) => a * b)));
    const s = Array.from(singularValues(m, 3, 4)).sort((a, b) => b - a);
    const expected = Math.sqrt(14) * Math.sqrt(126);
    expect(s[0]).toBeCloseTo(expected, 10);
    expect(s[1]).toBeLessThan(1e-12 * expected);
    expect(s[2]).toBeLessThan(1e-12 * expected);
  });

  it('Jacobi: V diag(l) V^T rebuilds the matrix', () => {
    const g = gaussianStats(features(4, 30, 9));
    const { values, vectors } = symmetricEigen(g.cov, 9);
    let worst = 0;
    for (let i = 0; i < 9; i++)
      for (let j = 0; j < 9; j++) {
        let s = 0;
        for (let k = 0; k < 9; k++) s += (vectors[i * 9 + k] as number) * (values[k] as number) * (vectors[j * 9 + k] as number);
        worst = Math.max(worst, Math.abs(s - (g.cov[i * 9 + j] as number)));
      }
    expect(worst).toBeLessThan(1e-10);
  });

  it('rejects fewer than 2 samples and mismatched feature sizes', () => {
    expect(() => fid(features(1, 1, 3), features(2, 5, 3))).toThrow(/at least 2/);
    expect(() => fid(features(1, 4, 3), features(2, 5, 4))).toThrow(/3 and 4 features/);
  });
});

const python = '/usr/bin/python3';
const hasNumpy = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

describe('FID against numpy (tools/fid_reference.py)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-fidref-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it.skipIf(!hasNumpy)('matches numpy on rank-deficient (64 vs 64 samples, d = 256) and full-rank (300 vs 400, d = 64) sets (skipped without numpy)', () => {
    for (const [n1, n2, d] of [[64, 64, 256], [300, 400, 64]] as const) {
      const out = join(tmp, `sets-${d}.json`);
      const r = spawnSync(python, ['tools/fid_reference.py', '--n1', String(n1), '--n2', String(n2), '--d', String(d), '--out', out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const ref = JSON.parse(r.stdout) as { eigh: number; svd: number };
      const sets = JSON.parse(readFileSync(out, 'utf8')) as { x: number[][]; y: number[][] };
      const m = (rows: number[][]): FeatureMatrix => ({ rows: rows.length, cols: d, data: Float64Array.from(rows.flat()) });
      const ours = fid(m(sets.x), m(sets.y));
      // Against LAPACK's SVD route, which keeps full float64 precision: rounding level.
      expect(Math.abs(ours - ref.svd) / ref.svd).toBeLessThan(1e-11);
      // The sqrtm-style route loses about half the digits of the zero eigenvalues of rank-deficient
      // covariances (observed ~6e-8 relative at n = 64, d = 2048); at full rank it agrees to rounding.
      expect(Math.abs(ours - ref.eigh) / ref.eigh).toBeLessThan(n1 < d ? 1e-6 : 1e-11);
    }
  });
});

describe('feature models from model.json', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-fid-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const save = (model: tf.LayersModel, name: string): Promise<string> => saveLayersModel(model, tmp, name);

  it('a layers-model round-trips: same features as the model in memory, resized and grey repeated', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 5, kernelSize: 3, activation: 'relu', seed: 1 } as Parameters<typeof tf.layers.conv2d>[0]),
        tf.layers.globalAveragePooling2d({}),
      ],
    });
    const file = await save(model, 'tiny');
    const loaded = await loadFeatureModel(file);
    expect(loaded.format).toBe('layers-model');
    expect(loaded.inputSize).toEqual([12, 12]);
    expect(loaded.channels).toBe(3);

    const grey = tf.tidy(() => tf.floor(tf.randomUniform([5, 8, 8, 1], 0, 256, 'float32', 3)) as tf.Tensor4D);
    const f = extractFeatures(loaded, grey, [-1, 1], 2);
    expect([f.rows, f.cols]).toEqual([5, 5]);
    const expected = tf.tidy(() => model.predict(prepareForFeatures(grey, { inputSize: [12, 12], channels: 3 }, [-1, 1])) as tf.Tensor);
    const want = expected.dataSync();
    // Same kernels on the same inputs on the same backend: float32 rounding only.
    Array.from(f.data).forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 5));
    const prepared = prepareForFeatures(grey, loaded, [-1, 1]);
    expect(prepared.shape).toEqual([5, 12, 12, 3]);
    const [lo, hi] = [prepared.min().dataSync()[0] as number, prepared.max().dataSync()[0] as number];
    expect(lo).toBeGreaterThanOrEqual(-1);
    expect(hi).toBeLessThanOrEqual(1);
    tf.dispose([grey, expected, prepared]);
    loaded.dispose();
    model.dispose();
  });

  it('a graph-model (as tensorflowjs_converter writes it) loads and runs', async () => {
    // x [-1, 6, 6, 3] -> Mean over H, W: a 3-feature "pool" with its axes stored as a weight.
    const topology = {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '6' }, { size: '6' }, { size: '3' }] } } } },
        { name: 'axes', op: 'Const', attr: { value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '2' }] } } }, dtype: { type: 'DT_INT32' } } },
        { name: 'pool', op: 'Mean', input: ['x', 'axes'], attr: { keep_dims: { b: false }, T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' } } },
      ],
      library: {},
      versions: { producer: 1 },
    };
    writeFileSync(join(tmp, 'graph.bin'), new Uint8Array(new Int32Array([1, 2]).buffer));
    const file = join(tmp, 'graph.json');
    writeFileSync(file, JSON.stringify({ format: 'graph-model', modelTopology: topology, weightsManifest: [{ paths: ['graph.bin'], weights: [{ name: 'axes', shape: [2], dtype: 'int32' }] }] }));
    const loaded = await loadFeatureModel(file);
    expect(loaded.format).toBe('graph-model');
    expect(loaded.inputSize).toEqual([6, 6]);
    const images = tf.fill([2, 6, 6, 1], 255) as tf.Tensor4D;
    const f = extractFeatures(loaded, images, [0, 1]);
    expect([f.rows, f.cols]).toEqual([2, 3]);
    Array.from(f.data).forEach((v) => expect(v).toBeCloseTo(1, 6));
    images.dispose();
    loaded.dispose();
  });

  it('a missing file, a non-model JSON and a missing shard give a ModelFileError saying which', async () => {
    await expect(loadFeatureModel(join(tmp, 'nope.json'))).rejects.toThrow(/does not exist/);
    writeFileSync(join(tmp, 'notmodel.json'), '{"hello": 1}');
    await expect(loadFeatureModel(join(tmp, 'notmodel.json'))).rejects.toThrow(ModelFileError);
    writeFileSync(join(tmp, 'noshard.json'), JSON.stringify({ format: 'layers-model', modelTopology: { class_name: 'Sequential', config: {} }, weightsManifest: [{ paths: ['gone.bin'], weights: [] }] }));
    await expect(loadFeatureModel(join(tmp, 'noshard.json'))).rejects.toThrow(/gone\.bin/);
  });
});
