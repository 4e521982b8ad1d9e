/**
 * The page's ONNX engine (`?engine=onnx`): samples come from the model's exported sampling graph
 * (src/caflow/onnx.ts) on onnxruntime-web's WebAssembly backend instead of the tfjs interpreters. Loaded
 * only when asked for, so the default page does not download ONNX Runtime.
 */
import type { OnnxRuntimeLike, SampleEngine } from './session.js';
// The runtime's WebAssembly binary, emitted by the bundler next to the page like tfjs's.
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

export type EngineName = SampleEngine['kind'];

export const isEngineName = (name: string | null): name is EngineName => name === 'tfjs' || name === 'onnx';

export const loadEngine = async (name: EngineName): Promise<SampleEngine> => {
  if (name === 'tfjs') return { kind: 'tfjs' };
  // The WebAssembly-only build, whose glue matches ort-wasm-simd-threaded.wasm (the default entry is the
  // WebGPU build, which needs the .jsep binary).
  const ort = await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = { wasm: ortWasm };
  // One thread: ONNX Runtime's pthread workers would start from the bundled module's URL; threaded
  // ONNX Runtime Web was not tried in this page.
  ort.env.wasm.numThreads = 1;
  return { kind: 'onnx', ort: ort as unknown as OnnxRuntimeLike };
};
