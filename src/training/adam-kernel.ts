/**
 * Adam's update of every trained tensor as one kernel, for the `wasm` and `cpu` backends: one loop over
 * the elements that reads p, m, v and the gradient and writes p', m', v' straight into the new
 * tensors. Written with tensor ops, the update over a CAFLOW's ~200 parameter tensors needed the
 * tensors joined into vectors (3 concats of ~200 inputs), 14 elementwise ops over 827k floats, and the
 * results split and reshaped back (~1,800 small kernels): 16-21 ms per training step on wasm. This
 * kernel does the same arithmetic in one pass.
 *
 * Per element, with t the 1-based step, c1 = 1 - beta1^t and c2 = 1 - beta2^t:
 *   m' = beta1 m + (1 - beta1) g,   v' = beta2 v + (1 - beta2) g^2,
 *   p' = p - lr (m' / c1) / (sqrt(v' / c2) + eps)   (computed as (lr / c1) m' / (sqrt((1 / c2) v') + eps)).
 * The arithmetic runs in float64 and each result is rounded to float32 once; m' and v' are rounded
 * before p' uses them, so p' is exactly what the stored moments give. Other backends (node, webgl,
 * webgpu) run the same formula as tensor ops (adam.ts); both are tested against each other.
 *
 * Browser-safe: no Node imports.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

export const ADAM_KERNEL = 'TypedFlowsAdamUpdate';

export interface AdamKernelAttrs {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** 1 - beta1^t and 1 - beta2^t. */
  readonly c1: number;
  readonly c2: number;
  /** Number of parameter tensors n: inputs p0..p(n-1), m0.., v0.. and one flat gradient g. */
  readonly count: number;
}

/** Input names of the kernel, in the order the outputs come back (p', then m', then v'). */
export const adamInputNames = (count: number): { p: string[]; m: string[]; v: string[] } => ({
  p: Array.from({ length: count }, (_, i) => `p${i}`),
  m: Array.from({ length: count }, (_, i) => `m${i}`),
  v: Array.from({ length: count }, (_, i) => `v${i}`),
});

/** How a backend lets the kernel read an input and fill a new float32 output. */
interface Storage {
  /** Allocates every output first: on wasm an allocation may move the heap and stale earlier views. */
  allocate(shapes: readonly (readonly number[])[]): void;
  read(t: TensorInfo): Float32Array;
  output(i: number): Float32Array;
  results(): TensorInfo[];
}

const need = (inputs: Record<string, TensorInfo | undefined>, name: string): TensorInfo => {
  const t = inputs[name];
  if (t === undefined || t.dtype !== 'float32') throw new Error(`typed-flows: ${ADAM_KERNEL} needs a float32 input '${name}'`);
  return t;
};

/**
 * The per-element update of one tensor, a function of its own so V8 compiles the hot loop once for
 * all ~200 tensors. The divisions by c1 and c2 are folded into lr / c1 and 1 / c2.
 */
const adamLoop = (
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  offset: number,
  pOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  beta1: number,
  beta2: number,
  stepSize: number,
  invC2: number,
  eps: number,
): void => {
  const oneMinusBeta1 = 1 - beta1;
  const oneMinusBeta2 = 1 - beta2;
  for (let j = 0; j < p.length; j++) {
    const gj = g[offset + j] as number;
    const m1 = Math.fround(beta1 * (m[j] as number) + oneMinusBeta1 * gj);
    const v1 = Math.fround(beta2 * (v[j] as number) + oneMinusBeta2 * gj * gj);
    mOut[j] = m1;
    vOut[j] = v1;
    pOut[j] = (p[j] as number) - (stepSize * m1) / (Math.sqrt(v1 * invC2) + eps);
  }
};

const update = (inputs: Record<string, TensorInfo | undefined>, attrs: AdamKernelAttrs, storage: Storage): TensorInfo[] => {
  const { lr, beta1, beta2, eps, c1, c2, count } = attrs;
  if (count === 0) return [];
  const names = adamInputNames(count);
  const ps = names.p.map((n) => need(inputs, n));
  const ms = names.m.map((n) => need(inputs, n));
  const vs = names.v.map((n) => need(inputs, n));
  const gInfo = need(inputs, 'g');
  const total = ps.reduce((s, t) => s + tf.util.sizeFromShape(t.shape), 0);
  if (tf.util.sizeFromShape(gInfo.shape) !== total) throw new Error(`typed-flows: ${ADAM_KERNEL}: the gradient has ${tf.util.sizeFromShape(gInfo.shape)} entries, the parameters ${total}`);
  storage.allocate([...ps, ...ps, ...ps].map((t) => t.shape));
  const g = storage.read(gInfo);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const p = storage.read(ps[i] as TensorInfo);
    const m = storage.read(ms[i] as TensorInfo);
    const v = storage.read(vs[i] as TensorInfo);
    adamLoop(p, m, v, g, offset, storage.output(i), storage.output(count + i), storage.output(2 * count + i), beta1, beta2, lr / c1, 1 / c2, eps);
    offset += p.length;
  }
  return storage.results();
};

/** tfjs-backend-wasm's BackendWasm: tensors live in the module's heap. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

const wasmStorage = (backend: WasmBackend): Storage => {
  let outs: TensorInfo[] = [];
  let views: Float32Array[] = [];
  return {
    allocate: (shapes) => {
      outs = shapes.map((s) => backend.makeOutput([...s], 'float32'));
      views = outs.map((o) => backend.typedArrayFromHeap(o));
    },
    read: (t) => backend.typedArrayFromHeap(t),
    output: (i) => views[i] as Float32Array,
    results: () => outs,
  };
};

/** tfjs's cpu backend: values in JS typed arrays, outputs registered after they are filled. */
interface CpuBackend {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

const cpuStorage = (backend: CpuBackend): Storage => {
  let shapes: (readonly number[])[] = [];
  let values: Float32Array[] = [];
  return {
    allocate: (s) => {
      shapes = [...s];
      values = s.map((shape) => new Float32Array(tf.util.sizeFromShape([...shape])));
    },
    read: (t) => backend.readSync(t.dataId) as Float32Array,
    output: (i) => values[i] as Float32Array,
    results: () => shapes.map((s, i) => backend.makeTensorInfo([...s], 'float32', values[i] as Float32Array)),
  };
};

const kernelFunc =
  (storageOf: (backend: object) => Storage): KernelFunc =>
  ({ inputs, backend, attrs }) =>
    update(inputs as Record<string, TensorInfo | undefined>, attrs as NamedAttrMap as unknown as AdamKernelAttrs, storageOf(backend));

const configs: readonly KernelConfig[] = [
  { kernelName: ADAM_KERNEL, backendName: 'wasm', kernelFunc: kernelFunc((b) => wasmStorage(b as WasmBackend)) },
  { kernelName: ADAM_KERNEL, backendName: 'cpu', kernelFunc: kernelFunc((b) => cpuStorage(b as CpuBackend)) },
];

/** Registers the kernel for wasm and cpu (idempotent); adam.ts does so on import. */
export function registerAdamKernel(): void {
  for (const c of configs) if (tf.getKernel(c.kernelName, c.backendName) === undefined) tf.registerKernel(c);
}

/** Whether the active backend has the fused update (else adam.ts uses tensor ops). */
export const hasAdamKernel = (): boolean => tf.getKernel(ADAM_KERNEL, tf.getBackend()) !== undefined;
