/**
 * The playground's model handling and drawing maths, run in Node: reading model files (and refusing
 * the wrong ones without leaking tensors), making conditions with the task's own code, ranked
 * sampling with progress, and turning drawings into MNIST-like digits.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caflowConfig, caflowSpec, dequantize, encodeCaflowModel, initCaflow } from '../../src/caflow/index.js';
import { presets } from '../../src/experiments/config.js';
import { flattenParams, type ParamTree } from '../../src/dsl/params.js';
import { tasks } from '../../src/tasks/index.js';
import { boundingBox, boxDownsample, centreLikeMnist, centreOfMass } from '../../playground/src/digit.js';
import { conditionOf, disposeModel, ModelFileError, readModelFile, sampleRanked } from '../../playground/src/session.js';

const config = caflowConfig({ target: [1, 8, 8], condition: [1, 8, 8], scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 4, conditionalHidden: 4 });
const model = caflowSpec(config);
const w = tf.floor(tf.randomUniform([4, 8, 8, 1], 0, 256, 'float32', 1)) as tf.Tensor4D;
const y = tf.floor(tf.randomUniform([4, 8, 8, 1], 0, 256, 'float32', 2)) as tf.Tensor4D;
const params = initCaflow(model, { seed: 3, w: dequantize(w, 'center'), y: dequantize(y, 'center') });
const runConfig = (task: 'sr' | 'sketch') => ({ ...(presets[`mnist-${task}`] as NonNullable<(typeof presets)[string]>), size: 8 });

const fileFor = (c: unknown): Promise<Uint8Array> => encodeCaflowModel({ model, params, step: 7, config: c });

describe('playground: reading model files', () => {
  it('reads a model file for its task, with its step and the temperature it was evaluated at', async () => {
    const m = readModelFile(await fileFor(runConfig('sr')), 'sr.safetensors', 'sr');
    expect(m.imageShape).toEqual([8, 8, 1]);
    expect(m.step).toBe(7);
    expect(m.temperature).toBe(runConfig('sr').eval.temperature);
    const stored = flattenParams(m.params as ParamTree);
    const original = new Map(flattenParams(params as ParamTree));
    expect(stored.length).toBe(original.size);
    for (const [path, t] of stored) expect(Array.from(t.dataSync())).toEqual(Array.from(original.get(path)!.dataSync()));
    disposeModel(m);
  });

  it('refuses a model trained for another task, naming both, and leaks nothing', async () => {
    const bytes = await fileFor(runConfig('sketch'));
    const before = tf.memory().numTensors;
    expect(() => readModelFile(bytes, 'mine.safetensors', 'sr')).toThrow(ModelFileError);
    expect(() => readModelFile(bytes, 'mine.safetensors', 'sr')).toThrow(/trained for the task 'sketch', and the page is set to 'sr'/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks shapes when the file carries no run config: a grey model does not fit colorization', async () => {
    const bytes = await fileFor(null);
    expect(() => readModelFile(bytes, 'api.safetensors', 'colorize')).toThrow(/does not fit this task: its target has 1 channel\(s\): colorize needs RGB targets/);
    const m = readModelFile(bytes, 'api.safetensors', 'inpaint-center');
    expect(m.task).toBe('inpaint-center');
    disposeModel(m);
  });

  it('says a corrupt file is not a model file, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    expect(() => readModelFile(new TextEncoder().encode('<!doctype html> not found'), 'x.safetensors', 'sr')).toThrow(/x\.safetensors is not a typed-flows CAFLOW model file/);
    const bytes = await fileFor(runConfig('sr'));
    expect(() => readModelFile(bytes.slice(0, bytes.length - 100), 'cut.safetensors', 'sr')).toThrow(ModelFileError);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('playground: conditions and sampling', () => {
  it('makes Y with the task code itself', () => {
    const target = Uint8Array.from(w.slice(0, 1).dataSync());
    for (const task of ['sr', 'inpaint-center', 'sketch'] as const) {
      const expected = tf.tidy(() => Array.from(tasks[task].makeCondition(w.slice(0, 1)).dataSync()));
      expect(Array.from(conditionOf(task, target, [8, 8, 1]))).toEqual(expected);
    }
  });

  it('k samples best first, progress after each chunk, bits/dim from the same log-likelihood, no leaks', async () => {
    const m = readModelFile(await fileFor(runConfig('sr')), 'sr.safetensors', 'sr');
    const condition = conditionOf('sr', Uint8Array.from(w.slice(0, 1).dataSync()), [8, 8, 1]);
    const progress: number[] = [];
    const before = tf.memory().numTensors;
    const s = await sampleRanked(m, condition, { k: 5, temperature: 0.7, seed: 4, chunk: 2 }, (done) => {
      progress.push(done);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(progress).toEqual([2, 4, 5]);
    expect(s).toHaveLength(5);
    for (let i = 1; i < s.length; i++) expect(s[i]!.logLikelihood).toBeLessThanOrEqual(s[i - 1]!.logLikelihood);
    for (const x of s) {
      expect(Number.isFinite(x.logLikelihood)).toBe(true);
      expect(x.bitsPerDim).toBeCloseTo(-x.logLikelihood / (64 * Math.LN2), 10);
      expect(x.image).toHaveLength(64);
      expect(x.image.every((v) => v >= 0 && v <= 255)).toBe(true);
    }
    // The same request gives the same samples; another seed gives others.
    const again = await sampleRanked(m, condition, { k: 5, temperature: 0.7, seed: 4, chunk: 2 });
    expect(again.map((x) => x.logLikelihood)).toEqual(s.map((x) => x.logLikelihood));
    const other = await sampleRanked(m, condition, { k: 5, temperature: 0.7, seed: 5, chunk: 2 });
    expect(other.map((x) => x.logLikelihood)).not.toEqual(s.map((x) => x.logLikelihood));
    disposeModel(m);
  });
});

describe('playground: drawings to digits', () => {
  it('box-downsampling keeps a constant image and averages blocks', () => {
    expect(Array.from(boxDownsample(new Uint8Array(64).fill(200), 8, 2))).toEqual([200, 200, 200, 200]);
    const half = Uint8Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 255 : 0));
    expect(Array.from(boxDownsample(half, 4, 2))).toEqual([255, 0, 255, 0]);
    expect(() => boxDownsample(half, 4, 3)).toThrow(/not a multiple/);
  });

  it('centres any stroke like MNIST: longer side 20 px, centre of mass within a pixel of the middle', () => {
    fc.assert(
      fc.property(
        fc.record({ x: fc.integer({ min: 0, max: 200 }), y: fc.integer({ min: 0, max: 200 }), bw: fc.integer({ min: 8, max: 56 }), bh: fc.integer({ min: 8, max: 56 }) }),
        ({ x, y, bw, bh }) => {
          const pad = new Uint8Array(256 * 256);
          for (let r = y; r < y + bh; r++) for (let c = x; c < x + bw; c++) pad[r * 256 + c] = 255;
          const out = centreLikeMnist(pad, 256);
          const bb = boundingBox(out, 32, 0);
          expect(bb).toBeDefined();
          expect(Math.max(bb!.x1 - bb!.x0, bb!.y1 - bb!.y0)).toBe(20);
          const com = centreOfMass(out, 32)!;
          // Integer placement: the centre of mass lands within half a pixel of 16 (plus rounding).
          expect(Math.abs(com.x - 16)).toBeLessThanOrEqual(1);
          expect(Math.abs(com.y - 16)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a blank drawing stays blank', () => {
    expect(centreLikeMnist(new Uint8Array(256 * 256), 256).every((v) => v === 0)).toBe(true);
  });
});
