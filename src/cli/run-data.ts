/**
 * The paired data of a run: bundled MNIST (coloured for colorization) or a user's image folder, the
 * task's conditions computed once, and a deterministic train/validation split.
 */
import * as tf from '@tensorflow/tfjs';
import type { Shape3 } from '../dsl/shape.js';
import type { RunConfig } from '../experiments/config.js';
import { subset, type PairedData } from '../experiments/paired-data.js';
import { coloredMnist, loadMnist, splitTrainVal } from '../data/mnist.js';
import { loadImageFolder } from '../data/folder.js';
import { getTask } from '../tasks/index.js';
import { UsageError } from './io.js';

export interface RunData {
  readonly train: PairedData;
  readonly val: PairedData;
}

/** Applies the task to every target, in chunks, and returns the conditions as bytes. */
const conditionsOf = (config: RunConfig, w: Uint8Array, [c, h, wd]: Shape3, count: number): { y: Uint8Array; channels: number } => {
  const task = getTask(config.task);
  const channels = task.conditionChannels(c);
  const y = new Uint8Array(count * h * wd * channels);
  const chunk = 256;
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    const values = tf.tidy(() => {
      const batch = tf.tensor4d(Float32Array.from(w.subarray(start * h * wd * c, (start + n) * h * wd * c)), [n, h, wd, c]);
      return task.makeCondition(batch, config.train.seed + start).dataSync() as Float32Array;
    });
    y.set(Uint8Array.from(values, (v) => Math.max(0, Math.min(255, Math.round(v)))), start * h * wd * channels);
  }
  return { y, channels };
};

/** Loading problems (missing folder, missing package) are the user's to fix: exit code 2. */
export const loadRunData = async (config: RunConfig): Promise<RunData> => {
  try {
    return await load(config);
  } catch (e) {
    if (e instanceof Error && !(e instanceof UsageError)) throw new UsageError(e.message);
    throw e;
  }
};

const load = async (config: RunConfig): Promise<RunData> => {
  let w: Uint8Array;
  let count: number;
  let channels: number;
  let y: Uint8Array | undefined;
  let yChannels = 0;
  if (config.data.source === 'mnist') {
    if (config.size !== 32) throw new RangeError(`MNIST runs at 32x32 (28x28 digits padded); the config asks for size ${config.size}`);
    const mnist = loadMnist({ limit: config.data.limit, seed: config.train.seed });
    count = mnist.count;
    channels = config.task === 'colorize' ? 3 : 1;
    w = config.task === 'colorize' ? coloredMnist(mnist.images, config.train.seed) : mnist.images;
  } else {
    const folder = await loadImageFolder(config.data.path, { size: config.size, layout: config.data.layout });
    count = folder.count;
    channels = 3;
    w = folder.targets;
    if (folder.conditions !== undefined) {
      y = folder.conditions;
      yChannels = 3;
    }
  }
  const shape: Shape3 = [channels, config.size, config.size];
  if (y === undefined) ({ y, channels: yChannels } = conditionsOf(config, w, shape, count));
  const all: PairedData = { w, y, count, targetShape: shape, conditionShape: [yChannels, config.size, config.size] };
  const { train, val } = splitTrainVal(count, config.train.valFraction, config.train.seed);
  return { train: subset(all, train), val: subset(all, val) };
};
