/**
 * `--engine` of sample and eval: tfjs (the default) runs the model's tfjs interpreters; onnx exports
 * the model's sampling and likelihood graphs and runs them on onnxruntime-node (CPU, all cores).
 */
import type { CaflowSpec } from '../caflow/model.js';
import type { CaflowParams } from '../caflow/params.js';
import type { OnnxCaflow } from '../node/caflow-onnx.js';

export const engines = ['tfjs', 'onnx'] as const;
export type Engine = (typeof engines)[number];

/** `--engine` of train: tfjs (in this process) or pytorch (the exported train.py, src/cli/commands/train-pytorch.ts). */
export const trainEngines = ['tfjs', 'pytorch'] as const;
export type TrainEngine = (typeof trainEngines)[number];

/** Runs `f` with ONNX Runtime sessions for the model (k samples per condition), released afterwards. */
export const withOnnx = async <T>(m: CaflowSpec, params: CaflowParams, k: number, f: (engine: OnnxCaflow) => Promise<T>): Promise<T> => {
  // Loaded on use: only --engine onnx needs ONNX Runtime.
  const { onnxCaflow } = await import('../node/caflow-onnx.js');
  const engine = await onnxCaflow(m, params, k);
  try {
    return await f(engine);
  } finally {
    await engine.release();
  }
};

