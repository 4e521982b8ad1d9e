/**
 * Convolution gradient kernels for the `wasm` backend, so that plain `tf.conv2d` (and `tf.grad` through
 * it) works there. tfjs-backend-wasm 4.22 has Conv2D and Conv2DBackpropInput but no
 * Conv2DBackpropFilter; tf.grad through tf.conv2d therefore fails with "Cannot find registered kernel".
 *
 * The kernels wrap the composed gradients of src/layers/conv-gradients.ts (the ones `conv2dSame` uses):
 * supported are NHWC, stride 1, any kernel size, 'same'/'valid'/explicit padding. Anything else
 * throws an Error naming the attribute instead of returning wrong numbers. (Dilations never reach these
 * kernels: tfjs's Conv2D gradient rejects dilations > 1 itself.)
 *
 * Browser-safe: no Node imports (a browser page imports this too).
 */
import * as tf from '@tensorflow/tfjs';
import { convFilterGradient, convInputGradient, type ConvPadding } from '../layers/conv-gradients.js';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs';
import { originalWasmKernel, replaceWasmKernel, WASM_BACKEND as BACKEND } from './wasm-kernel-registry.js';

type Pad = Conv2DBackpropFilterAttrs['pad'];
type Shape4 = [number, number, number, number];


const unsupported = (kernel: string, what: string): Error =>
  new Error(`typed-flows: ${kernel} on the wasm backend supports only ${what}`);

/** Checks the attributes we do not handle and returns the padding tfjs's forward Conv2D used. */
const checkedPadding = (
  kernel: string,
  xShape: Shape4,
  filterShape: Shape4,
  attrs: { strides: [number, number] | number; pad: Pad; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil' },
): ConvPadding => {
  const strides = typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : attrs.strides;
  if (strides.some((s) => s !== 1)) throw unsupported(kernel, `strides 1 (got strides ${JSON.stringify(attrs.strides)})`);
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') throw unsupported(kernel, `dataFormat 'NHWC' (got dataFormat '${attrs.dataFormat}')`);
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, 1, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { top, bottom, left, right } = info.padInfo;
  // Padding wider than the kernel would make the input gradient's own padding negative.
  if (top > info.filterHeight - 1 || bottom > info.filterHeight - 1 || left > info.filterWidth - 1 || right > info.filterWidth - 1) {
    throw unsupported(kernel, `pad of at most kernel size - 1 per side (got pad ${JSON.stringify(attrs.pad)})`);
  }
  return { top, bottom, left, right };
};

/**
 * The inputs as tensors we may dispose. runKernel passes Tensor objects, which we borrow as they are;
 * a bare TensorInfo gets its own reference (incRef) so that disposing our wrapper does not free it.
 */
const borrow = (info: TensorInfo, backend: KernelBackend): tf.Tensor => {
  if (info instanceof tf.Tensor) return info;
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend);
};

/**
 * Hands the result to the engine: it wraps the returned TensorInfo in a new tensor that owns one
 * reference to the data. We add that reference before disposing our own tensor, so nothing is freed
 * early and nothing is left behind.
 */
const handOver = (t: tf.Tensor, backend: KernelBackend): TensorInfo => {
  backend.incRef(t.dataId);
  const info: TensorInfo = { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
  t.dispose();
  return info;
};

/** Runs `f` on the inputs as tensors and hands its result to the engine, releasing what it borrowed. */
const computeOn = (backend: KernelBackend, infos: readonly TensorInfo[], f: (ts: readonly tf.Tensor[]) => tf.Tensor): TensorInfo => {
  const ts = infos.map((info) => borrow(info, backend));
  try {
    return handOver(f(ts), backend);
  } finally {
    ts.forEach((t, i) => {
      if (t !== infos[i]) t.dispose();
    });
  }
};

const asShape4 = (s: readonly number[]): Shape4 => {
  if (s.length !== 4) throw new Error(`typed-flows: expected a rank-4 shape, got [${s.join(', ')}]`);
  return s as Shape4;
};

/** The attrs of a registered kernel arrive as a generic map; tfjs's op functions fill these fields. */
const filterAttrs = (attrs: NamedAttrMap | undefined): Conv2DBackpropFilterAttrs => attrs as unknown as Conv2DBackpropFilterAttrs;
const inputAttrs = (attrs: NamedAttrMap | undefined): Conv2DBackpropInputAttrs => attrs as unknown as Conv2DBackpropInputAttrs;

/** kernelFunc's backend is typed `{}`; ours is always the wasm backend, a KernelBackend. */
const asBackend = (b: object): KernelBackend => {
  if (!('incRef' in b) || typeof b.incRef !== 'function') throw new Error('typed-flows: expected a tfjs KernelBackend');
  return b as KernelBackend;
};

const need = (inputs: NamedTensorInfoMap, name: string): TensorInfo => {
  const t = inputs[name];
  if (t === undefined) throw new Error(`typed-flows: missing input '${name}'`);
  return t;
};

export const wasmConv2DBackpropFilter: KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: BACKEND,
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = asBackend(b);
    const a = filterAttrs(attrs);
    const xInfo = need(inputs, 'x');
    const dyInfo = need(inputs, 'dy');
    const filterShape = asShape4(a.filterShape);
    const p = checkedPadding(tf.Conv2DBackpropFilter, asShape4(xInfo.shape), filterShape, a);
    return computeOn(backend, [xInfo, dyInfo], ([x, dy]) => convFilterGradient(x as tf.Tensor4D, dy as tf.Tensor4D, filterShape, p));
  },
};

export const wasmConv2DBackpropInput: KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: BACKEND,
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = asBackend(b);
    const a = inputAttrs(attrs);
    const dyInfo = need(inputs, 'dy');
    const filterInfo = need(inputs, 'filter');
    const p = checkedPadding(tf.Conv2DBackpropInput, asShape4(a.inputShape), asShape4(filterInfo.shape), a);
    return computeOn(backend, [dyInfo, filterInfo], ([dy, filter]) => convInputGradient(dy as tf.Tensor4D, filter as tf.Tensor4D, p));
  },
};

/** Every kernel this module can provide. */
export const WASM_CONV_GRADIENT_KERNELS: readonly KernelConfig[] = [wasmConv2DBackpropFilter, wasmConv2DBackpropInput];

/** Whether our kernels handle these attributes (stride 1, NHWC, padding within the kernel). */
const handles = (kernel: string, xShape: readonly number[], filterShape: readonly number[], attrs: Conv2DBackpropInputAttrs): boolean => {
  try {
    checkedPadding(kernel, asShape4(xShape), asShape4(filterShape), attrs);
    return true;
  } catch {
    return false;
  }
};

/**
 * wasm's own Conv2DBackpropInput, kept for what ours does not handle (strides > 1, NCHW); the
 * stride-1 NHWC cases go to ours, 5-10x faster at the coupling nets' shapes (docs/performance.md).
 */
const withFallback =
  (original: KernelFunc): KernelFunc =>
  (args) => {
    const a = inputAttrs(args.attrs);
    const filter = args.inputs['filter'];
    return filter !== undefined && handles(tf.Conv2DBackpropInput, a.inputShape, filter.shape, a) ? wasmConv2DBackpropInput.kernelFunc(args) : original(args);
  };

/** wasm's own Conv2DBackpropInput as it was before registration (for benchmarks). */
export const nativeWasmConv2DBackpropInput = (): KernelConfig | undefined => originalWasmKernel(tf.Conv2DBackpropInput);

/**
 * Registers Conv2DBackpropFilter, which the wasm backend lacks (tfjs 4.22), and puts ours in front of
 * wasm's slower Conv2DBackpropInput (falling back to it for strides > 1 and NCHW). Idempotent.
 */
export function registerWasmConvGradients(): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, BACKEND) === undefined) tf.registerKernel(wasmConv2DBackpropFilter);
  if (!replaceWasmKernel(tf.Conv2DBackpropInput, withFallback)) tf.registerKernel(wasmConv2DBackpropInput);
}
