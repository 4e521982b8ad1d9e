/**
 * What the playground does with a model, free of the DOM so Node tests run it too: read a model file
 * (a `typed-flows export` file or a full training checkpoint), check it fits the task the page is
 * set to, make the condition Y from an image with the task's own code, and draw k samples ranked by
 * their exact log p(W | Y), a few at a time so the page can show progress between chunks.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { decodeCaflowModel } from '../../src/caflow/checkpoint.js';
import { imageShapes, type CaflowSpec } from '../../src/caflow/model.js';
import type { CaflowParams } from '../../src/caflow/params.js';
import { dequantize, quantize } from '../../src/caflow/quantize.js';
import { sample } from '../../src/caflow/sample.js';
import { decodeRunConfig } from '../../src/experiments/config.js';
import { disposeParams, type ParamTree } from '../../src/dsl/params.js';
import { signature } from '../../src/dsl/signature.js';
import { tasks, type TaskName } from '../../src/tasks/index.js';

/** A model file that cannot be used for the task the page is set to, or cannot be read at all. */
export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
}

export interface PlaygroundModel {
  readonly model: CaflowSpec;
  readonly params: CaflowParams;
  readonly task: TaskName;
  /** [H, W, C] of the targets W. */
  readonly imageShape: readonly [number, number, number];
  readonly conditionChannels: number;
  readonly step: number;
  /** The temperature the run was evaluated at (the slider's default). */
  readonly temperature: number;
  readonly variant: CaflowSpec['variant'];
  readonly source: string;
}

/** An error's message, or the thrown value as text. */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Reads a model file and checks it against `task`: the run config stored in the file names its task;
 * a file without one (made through the library API) is checked by its image shapes alone.
 */
export const readModelFile = (bytes: Uint8Array, source: string, task: TaskName): PlaygroundModel => {
  let file: ReturnType<typeof decodeCaflowModel>;
  try {
    file = decodeCaflowModel(bytes);
  } catch (e) {
    throw new ModelFileError(`${source} is not a typed-flows CAFLOW model file: ${errorText(e)}`);
  }
  const run = file.config === null ? undefined : decodeRunConfig(file.config);
  const trainedFor = run !== undefined && E.isRight(run) ? run.right.task : undefined;
  const [c, h, w] = imageShapes(signature(file.model.encoderW).ins, 'input of encoder T')[0] ?? [0, 0, 0];
  const [cy, hy, wy] = imageShapes(signature(file.model.encoderY).ins, 'input of encoder R')[0] ?? [0, 0, 0];
  const shapeProblem = (): string | undefined => {
    let wantY: number;
    try {
      wantY = tasks[task].conditionChannels(c);
    } catch (e) {
      return `its target has ${c} channel(s): ${errorText(e)}.`;
    }
    return cy !== wantY || hy !== h || wy !== w
      ? `its condition is ${cy}x${hy}x${wy} and its target ${c}x${h}x${w}; the '${task}' task needs a ${wantY}-channel condition the size of the target.`
      : undefined;
  };
  const problem =
    trainedFor !== undefined && trainedFor !== task
      ? `it was trained for the task '${trainedFor}', and the page is set to '${task}'. Choose '${trainedFor}' above, or load a model trained for '${task}'.`
      : shapeProblem();
  if (problem !== undefined) {
    disposeParams(file.params as ParamTree);
    throw new ModelFileError(`${source} does not fit this task: ${problem}`);
  }
  return {
    model: file.model,
    params: file.params,
    task,
    imageShape: [h, w, c],
    conditionChannels: cy,
    step: file.step,
    temperature: run !== undefined && E.isRight(run) ? run.right.eval.temperature : 0.5,
    variant: file.model.variant,
    source,
  };
};

export const disposeModel = (m: PlaygroundModel): void => disposeParams(m.params as ParamTree);

/** Y for one target image (HWC bytes), made by the task's own `makeCondition`: HWC bytes. */
export const conditionOf = (task: TaskName, target: Uint8Array, [h, w, c]: readonly [number, number, number]): Uint8Array =>
  tf.tidy(() => {
    const y = tasks[task].makeCondition(tf.tensor4d(Float32Array.from(target), [1, h, w, c]));
    return Uint8Array.from(y.dataSync(), (v) => Math.max(0, Math.min(255, Math.round(v))));
  });

export interface RankedSample {
  /** HWC bytes. */
  readonly image: Uint8Array;
  /** log p(W | Y) in nats, of the continuous sample (before rounding to bytes). */
  readonly logLikelihood: number;
  /** -log p(W | Y) / (D ln 2): the same unit as `typed-flows eval`'s NLL. */
  readonly bitsPerDim: number;
}

export interface SampleRequest {
  readonly k: number;
  readonly temperature: number;
  readonly seed: number;
  /** Samples per batch; progress is reported after each. */
  readonly chunk?: number;
}

/**
 * k samples for one condition (HWC bytes), best first. Each chunk is one batched `sample` call; the
 * seeds of chunk j start at seed + 1000 j so chunks never share noise.
 */
export const sampleRanked = async (
  m: PlaygroundModel,
  condition: Uint8Array,
  request: SampleRequest,
  onProgress: (done: number, total: number) => void | Promise<void> = () => undefined,
): Promise<RankedSample[]> => {
  const [h, w, c] = m.imageShape;
  const chunk = Math.max(1, request.chunk ?? 2);
  const dims = h * w * c;
  const out: RankedSample[] = [];
  const y = tf.tidy(() => dequantize(tf.tensor4d(Float32Array.from(condition), [1, h, w, m.conditionChannels]), 'center'));
  try {
    for (let done = 0, j = 0; done < request.k; j++) {
      const n = Math.min(chunk, request.k - done);
      const s = sample(m.model, m.params)(y, { k: n, temperature: request.temperature, seed: request.seed + 1000 * j });
      const pixels = tf.tidy(() => quantize(s.w));
      const [values, ll] = await Promise.all([pixels.data(), s.logLikelihood.data()]);
      tf.dispose([s.w, s.logLikelihood, pixels]);
      for (let i = 0; i < n; i++) {
        const logLikelihood = ll[i] as number;
        out.push({ image: Uint8Array.from(values.subarray(i * dims, (i + 1) * dims)), logLikelihood, bitsPerDim: -logLikelihood / (dims * Math.LN2) });
      }
      done += n;
      await onProgress(done, request.k);
    }
  } finally {
    y.dispose();
  }
  return out.sort((a, b) => b.logLikelihood - a.logLikelihood);
};
