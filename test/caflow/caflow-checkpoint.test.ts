/** CAFLOW checkpoints: resuming reproduces the uninterrupted loss curve; a mismatched model is refused. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  caflowConfig,
  caflowSpec,
  caflowStep,
  decodeCaflowCheckpoint,
  dequantize,
  encodeCaflowCheckpoint,
  initCaflow,
  type CaflowParams,
  type CaflowSpec,
} from '../../src/caflow/index.js';
import { CheckpointError } from '../../src/io/index.js';
import { readCheckpointFile, writeCheckpointFile } from '../../src/node/checkpoint-file.js';
import { createAdamState, disposeReplaced, type AdamState } from '../../src/training/index.js';

const config = caflowConfig({ target: [1, 8, 8], condition: [1, 8, 8], scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 4, conditionalHidden: 4 });
const model = caflowSpec(config);
const batches = Array.from({ length: 6 }, (_, i) => ({
  w: tf.floor(tf.randomUniform([2, 8, 8, 1], 0, 256, 'float32', 10 + i)) as tf.Tensor4D,
  y: tf.floor(tf.randomUniform([2, 8, 8, 1], 0, 256, 'float32', 20 + i)) as tf.Tensor4D,
}));

const train = (m: CaflowSpec, start: { params: CaflowParams; adam: AdamState }, from: number, to: number) => {
  let { params, adam } = start;
  const losses: number[] = [];
  for (let step = from; step < to; step++) {
    const r = caflowStep(m, params, adam, batches[step] as (typeof batches)[number], { phase: 'joint', lr: 3e-3, seed: 1000 + step });
    disposeReplaced(params, r.params);
    disposeReplaced(adam, r.state);
    params = r.params;
    adam = r.state;
    losses.push(r.loss);
  }
  return { params, adam, losses };
};

const fresh = () => {
  const params = initCaflow(model, { seed: 1, w: dequantize(batches[0]!.w, 'center'), y: dequantize(batches[0]!.y, 'center') });
  return { params, adam: createAdamState(params) };
};

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'typed-flows-ckpt-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('CAFLOW checkpoints', () => {
  it('training resumed from a checkpoint follows the uninterrupted loss curve exactly', async () => {
    const straight = train(model, fresh(), 0, 6);
    const half = train(model, fresh(), 0, 3);
    const dir = tempDir();
    const file = join(dir, 'model.safetensors');
    await writeCheckpointFile(file, await encodeCaflowCheckpoint({ model, params: half.params, adam: half.adam, step: 3, config }));
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    const bytes = (await import('node:fs')).readFileSync(file);
    const loaded = decodeCaflowCheckpoint(new Uint8Array(bytes), model);
    expect(loaded.step).toBe(3);
    expect(loaded.adam.step).toBe(3);
    expect(loaded.config).toEqual(JSON.parse(JSON.stringify(config)));
    const resumed = train(loaded.model, { params: loaded.params, adam: loaded.adam }, 3, 6);
    expect([...half.losses, ...resumed.losses]).toEqual(straight.losses);
  });

  it('a checkpoint of another model is refused with every difference listed', async () => {
    const { params, adam } = fresh();
    const bytes = await encodeCaflowCheckpoint({ model, params, adam, step: 0, config });
    const other = caflowSpec({ ...config, conditionalHidden: 8 });
    let error: unknown;
    try {
      decodeCaflowCheckpoint(bytes, other);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheckpointError);
    const text = String((error as Error).message) + (error as CheckpointError).problems.join('\n');
    expect(text).toContain('hidden');
    expect(text).toMatch(/G\.0\..*conv0\.kernel: shape \[3,3,\d+,4\], expected \[3,3,\d+,8\]/);
  });

  it('a corrupt file is a CheckpointError that names the file', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.safetensors');
    await writeCheckpointFile(file, new Uint8Array([1, 2, 3]));
    await expect(readCheckpointFile(file)).rejects.toThrow(CheckpointError);
    await expect(readCheckpointFile(file)).rejects.toThrow('bad.safetensors');
  });
});
