/**
 * Running exported ONNX models in Node with onnxruntime-node (an optional dependency): a session from
 * model bytes, float32 feeds from tfjs tensors or arrays, outputs back as arrays with their dims.
 * When the package is missing, `OnnxRuntimeMissingError` says how to install it.
 */
import type * as Ort from 'onnxruntime-node';

/** Thrown when the optional dependency onnxruntime-node is not installed; the message says how to install it. */
export class OnnxRuntimeMissingError extends Error {
  constructor(override readonly cause: unknown) {
    super(
      `onnxruntime-node is not installed (it is an optional dependency of typed-flows): ` +
        `install it with 'npm install onnxruntime-node' (set ONNXRUNTIME_NODE_INSTALL=skip, or the .npmrc line onnxruntime-node-install=skip, ` +
        `to skip its GPU download; the CPU runtime ships in the package), or run without --engine onnx.`,
    );
    this.name = 'OnnxRuntimeMissingError';
  }
}

/** The part of onnxruntime's API used here. */
export interface OnnxRuntimeApi {
  readonly InferenceSession: typeof Ort.InferenceSession;
  readonly Tensor: typeof Ort.Tensor;
}

let runtime: Promise<OnnxRuntimeApi> | undefined;

/** The onnxruntime-node module, loaded once; rejects with OnnxRuntimeMissingError when it cannot load. */
export const loadOnnxRuntime = (): Promise<OnnxRuntimeApi> => {
  const loading = (runtime ??= import('onnxruntime-node').then(
    (m: unknown) => {
      // A CommonJS package: its API is the namespace's default export (or the namespace itself).
      const mod = m as OnnxRuntimeApi & { default?: OnnxRuntimeApi };
      return mod.default ?? mod;
    },
    (e: unknown) => {
      runtime = undefined;
      throw new OnnxRuntimeMissingError(e);
    },
  ));
  return loading;
};

/** A float32 tensor as ONNX Runtime takes and gives it: row-major data and its dimensions. */
export interface FloatArray {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** An ONNX Runtime inference session on float32 tensors. */
export interface OnnxSession {
  /** The model's input names, in graph order. */
  readonly inputNames: readonly string[];
  /** The model's output names, in graph order. */
  readonly outputNames: readonly string[];
  /** Runs the model on one tensor per input name; resolves to every output by name. */
  run(feeds: { readonly [name: string]: FloatArray }): Promise<{ [name: string]: FloatArray }>;
  /** Frees the session's native resources; the session is unusable afterwards. */
  release(): Promise<void>;
}

/** Options of `onnxSession`. */
export interface SessionOptions {
  /** Threads inside one operator (default: onnxruntime's, all cores). */
  readonly intraOpThreads?: number;
}

/** An inference session on the CPU from model bytes. */
export const onnxSession = async (model: Uint8Array, options: SessionOptions = {}): Promise<OnnxSession> => {
  const ort = await loadOnnxRuntime();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(options.intraOpThreads === undefined ? {} : { intraOpNumThreads: options.intraOpThreads }),
  });
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run: async (feeds) => {
      const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, [...v.dims])]));
      const results = await session.run(ortFeeds);
      return Object.fromEntries(
        Object.entries(results).map(([k, t]) => {
          const out = { data: Float32Array.from(t.data as Float32Array), dims: [...t.dims] };
          t.dispose();
          return [k, out];
        }),
      );
    },
    release: () => session.release(),
  };
};
