/** Training CAFLOW: the loss goes down, nothing leaks, NaN steps are skipped, phases train what they say. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { caflowConfig, caflowSpec, caflowStep, dequantize, fromLatents, initCaflow, quantize, toLatents, type CaflowParams } from '../../src/caflow/index.js';
import { flattenParams } from '../../src/interpreters/index.js';
import { createAdamState, disposeReplaced, type AdamState } from '../../src/training/index.js';

const model = caflowSpec(
  caflowConfig({ target: [1, 8, 8], condition: [1, 8, 8], scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 8, conditionalHidden: 8 }),
);
// A structured batch (a smooth ramp plus noise) that a few steps can fit better than the init does.
const batch = tf.tidy(() => {
  const ramp = tf.tile(tf.reshape(tf.linspace(0, 224, 8), [1, 1, 8, 1]), [4, 8, 1, 1]);
  const w = tf.floor(tf.add(ramp, tf.randomUniform([4, 8, 8, 1], 0, 32, 'float32', 1))) as tf.Tensor4D;
  const y = tf.floor(tf.div(w, 2)) as tf.Tensor4D;
  return { w, y };
});
const fresh = (): { params: CaflowParams; adam: AdamState } => {
  const params = initCaflow(model, { seed: 0, w: dequantize(batch.w, 'center'), y: dequantize(batch.y, 'center') });
  return { params, adam: createAdamState(params) };
};

const values = (p: CaflowParams, prefix: 'R' | 'T' | 'G'): Float32Array[] =>
  flattenParams(p).filter(([path]) => path.startsWith(prefix)).map(([, t]) => t.dataSync() as Float32Array);

describe('caflowStep', () => {
  it('lowers the joint loss, keeps tensor counts flat, and the model stays exactly invertible', () => {
    let { params, adam } = fresh();
    const losses: number[] = [];
    let counts: number[] = [];
    for (let step = 0; step < 12; step++) {
      const r = caflowStep(model, params, adam, batch, { phase: 'joint', lr: 5e-3, seed: step });
      expect(r.skipped).toBe(false);
      disposeReplaced(params, r.params);
      disposeReplaced(adam, r.state);
      ({ params } = r);
      adam = r.state;
      losses.push(r.loss);
      counts.push(tf.memory().numTensors);
    }
    counts = counts.slice(1);
    expect(new Set(counts).size, `tensor counts ${counts.join(',')}`).toBe(1);
    const first = (losses[0] as number) + (losses[1] as number);
    const last = (losses[10] as number) + (losses[11] as number);
    expect(last, `losses ${losses.map((l) => l.toFixed(3)).join(' ')}`).toBeLessThan(first - 0.05);
    // After training, 8-bit data still comes back pixel-exact.
    const w = dequantize(batch.w, 'center');
    const y = dequantize(batch.y, 'center');
    const back = quantize(fromLatents(model, params)(toLatents(model, params)(w, y).z, y).w);
    expect(tf.sum(tf.notEqual(back, batch.w)).dataSync()[0]).toBe(0);
  });

  it('skips a step whose loss is not finite and leaves the parameters bitwise unchanged', () => {
    const { params, adam } = fresh();
    const bad = { w: tf.fill([4, 8, 8, 1], NaN) as tf.Tensor4D, y: batch.y };
    const before = values(params, 'G').map((v) => Array.from(v));
    const r = caflowStep(model, params, adam, bad, { phase: 'joint', lr: 1e-3, seed: 0 });
    expect(r.skipped).toBe(true);
    expect(r.params).toBe(params);
    expect(r.state.step).toBe(0);
    expect(values(r.params, 'G').map((v) => Array.from(v))).toEqual(before);
  });

  it("pretraining phases train only their part: 'encoders' R and T, 'priors' the G_i", () => {
    const { params, adam } = fresh();
    const enc = caflowStep(model, params, adam, batch, { phase: 'encoders', lr: 1e-2, seed: 0 });
    expect(values(enc.params, 'G')).toEqual(values(params, 'G'));
    expect(values(enc.params, 'T')).not.toEqual(values(params, 'T'));
    const pri = caflowStep(model, enc.params, createAdamState(enc.params), batch, { phase: 'priors', lr: 1e-2, seed: 1 });
    expect(values(pri.params, 'T')).toEqual(values(enc.params, 'T'));
    expect(values(pri.params, 'R')).toEqual(values(enc.params, 'R'));
    expect(values(pri.params, 'G')).not.toEqual(values(enc.params, 'G'));
  });
});

describe('trainRun', () => {
  it('stops with TrainingDivergedError after repeated non-finite steps, saving the last good state first', async () => {
    const { trainRun } = await import('../../src/experiments/train-run.js');
    const { TrainingDivergedError } = await import('../../src/training/index.js');
    const { params, adam } = fresh();
    const bytes = (t: tf.Tensor4D): Uint8Array => Uint8Array.from(t.dataSync());
    const data = { w: bytes(batch.w), y: bytes(batch.y), count: 4, targetShape: [1, 8, 8] as const, conditionShape: [1, 8, 8] as const };
    const saved: number[] = [];
    const run = trainRun({
      model,
      data,
      params,
      adam,
      startStep: 0,
      steps: 40,
      batchSize: 4,
      seed: 0,
      lr: 1e30, // the first update blows the weights up; every later loss is non-finite
      warmup: 0,
      clipNorm: 1,
      mode: 'joint',
      maxConsecutiveSkips: 3,
      saveCheckpoint: async ({ step }) => {
        saved.push(step);
      },
    });
    await expect(run).rejects.toThrow(TrainingDivergedError);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toBeLessThan(40);
  });
});
