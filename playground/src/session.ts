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
import { sample, sampleNoise, temperatures } from '../../src/caflow/sample.js';
import { caflowToOnnx, noiseName, priorLatents } from '../../src/caflow/onnx.js';
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
 * The part of ONNX Runtime's JS API the page uses: onnxruntime-web in the browser, onnxruntime-node
 * in tests (the same API).
 */
export interface OnnxRuntimeLike {
  readonly InferenceSession: {
    create(model: Uint8Array): Promise<{
      run(feeds: { [name: string]: unknown }): Promise<{ readonly [name: string]: { readonly data: unknown } }>;
      release(): Promise<void>;
    }>;
  };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

/** Where samples are computed: the tfjs interpreters, or the exported sampling graph on ONNX Runtime. */
export type SampleEngine = { readonly kind: 'tfjs' } | { readonly kind: 'onnx'; readonly ort: OnnxRuntimeLike };

type ChunkSampler = (y: tf.Tensor4D, n: number, seed: number) => Promise<{ w: tf.Tensor4D; logLikelihood: Float32Array }>;

/** n samples of Y with tfjs's sample(). */
const tfjsChunks =
  (m: PlaygroundModel, temperature: number): ChunkSampler =>
  async (y, n, seed) => {
    const s = sample(m.model, m.params)(y, { k: n, temperature, seed });
    const ll = (await s.logLikelihood.data()) as Float32Array;
    s.logLikelihood.dispose();
    return { w: s.w, logLikelihood: ll };
  };

/**
 * n samples of Y with the exported sampling graph (one session per chunk size, built on first use),
 * fed the noise sample() would draw from the same seed.
 */
const onnxChunks = (m: PlaygroundModel, temperature: number, ort: OnnxRuntimeLike): { sampler: ChunkSampler; release: () => Promise<void> } => {
  const sessions = new Map<number, ReturnType<OnnxRuntimeLike['InferenceSession']['create']>>();
  const t = Float32Array.from(temperatures(m.model, temperature));
  const sampler: ChunkSampler = async (y, n, seed) => {
    let session = sessions.get(n);
    if (session === undefined) {
      session = ort.InferenceSession.create(caflowToOnnx(m.model, m.params, { direction: 'sample', k: n }));
      sessions.set(n, session);
    }
    const noise = sampleNoise(m.model, n, seed);
    const feeds: { [name: string]: unknown } = { Y: new ort.Tensor('float32', Float32Array.from(y.dataSync()), y.shape), temperature: new ort.Tensor('float32', t, [t.length]) };
    m.model.priors.forEach((_, i) =>
      priorLatents(m.model, i).forEach(({ scale }, j) => {
        const z = noise[i]?.[j] as tf.Tensor4D;
        feeds[noiseName(i, scale)] = new ort.Tensor('float32', Float32Array.from(z.dataSync()), z.shape);
      }),
    );
    tf.dispose(noise.flat());
    const out = await (await session).run(feeds);
    const [h, w, c] = m.imageShape;
    return { w: tf.tensor4d(out['W']?.data as Float32Array, [n, h, w, c]), logLikelihood: Float32Array.from(out['logp']?.data as Float32Array) };
  };
  return {
    sampler,
    release: async () => {
      for (const s of sessions.values()) await (await s).release();
    },
  };
};

/**
 * k samples for one condition (HWC bytes), best first. Each chunk is one batched `sample` call (or one
 * run of the exported sampling graph with the same noise, with the onnx engine); the seeds of chunk j
 * start at seed + 1000 j so chunks never share noise.
 */
export const sampleRanked = async (
  m: PlaygroundModel,
  condition: Uint8Array,
  request: SampleRequest,
  onProgress: (done: number, total: number) => void | Promise<void> = () => undefined,
  engine: SampleEngine = { kind: 'tfjs' },
): Promise<RankedSample[]> => {
  const [h, w, c] = m.imageShape;
  const chunk = Math.max(1, request.chunk ?? 2);
  const dims = h * w * c;
  const out: RankedSample[] = [];
  const onnx = engine.kind === 'onnx' ? onnxChunks(m, request.temperature, engine.ort) : undefined;
  const chunks = onnx?.sampler ?? tfjsChunks(m, request.temperature);
  const y = tf.tidy(() => dequantize(tf.tensor4d(Float32Array.from(condition), [1, h, w, m.conditionChannels]), 'center'));
  try {
    for (let done = 0, j = 0; done < request.k; j++) {
      const n = Math.min(chunk, request.k - done);
      const s = await chunks(y, n, request.seed + 1000 * j);
      const pixels = tf.tidy(() => quantize(s.w));
      const values = await pixels.data();
      tf.dispose([s.w, pixels]);
      for (let i = 0; i < n; i++) {
        const logLikelihood = s.logLikelihood[i] as number;
        out.push({ image: Uint8Array.from(values.subarray(i * dims, (i + 1) * dims)), logLikelihood, bitsPerDim: -logLikelihood / (dims * Math.LN2) });
      }
      done += n;
      await onProgress(done, request.k);
    }
  } finally {
    y.dispose();
    await onnx?.release();
  }
  return out.sort((a, b) => b.logLikelihood - a.logLikelihood);
};
