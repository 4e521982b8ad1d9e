/**
 * Section 4, on the wasm backend:
 * - conv gradients: d/dx and d/dkernel of sum(conv(x, K) * w) for the coupling-net layers of section 2
 *   (batch 16 of 16x16: conv3x3 6->128, conv1x1 128->128, conv3x3 128->12), computed by plain
 *   `tf.conv2d` (tfjs's gradient, through the kernels src/backend/wasm-conv-gradients.ts registers) and
 *   by `conv2dSame` from src/layers/ops.ts (its custom gradient); and, kernel by kernel, wasm's native Conv2DBackpropInput against the composed one.
 * - sampling (CAFLOW 32x32, k = 8) with the Inv1x1 float64 cache of
 *   src/dsl/maths/channel-mix.ts off and on.
 * Each pair is timed interleaved (alternating which goes first); ratios are medians of medians and
 * medians of per-pair ratios.
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { nativeWasmConv2DBackpropInput, registerWasmConvGradients, wasmConv2DBackpropInput } from '../src/backend/wasm-conv-gradients.js';
import { dequantize } from '../src/caflow/index.js';
import { channelMixWork, setChannelMixCache } from '../src/dsl/maths/channel-mix.js';
import { conv2dSame } from '../src/layers/ops.js';
import { caflowSmall, caflowTrainer, describeConfig, pixelBatch, sampleOnce } from './caflow-setup.js';
import { interleaved, round, type RunSize, type Timing } from './common.js';
import { COUPLING, SAMPLES_K } from './versus-pytorch.js';

export interface PairFigure {
  readonly workload: string;
  /** What a and b are. */
  readonly a: string;
  readonly b: string;
  readonly timeA: Timing;
  readonly timeB: Timing;
  /** median(a) / median(b). */
  readonly ratio: number;
  /** Median of the per-pair ratios a/b. */
  readonly pairedRatio: number;
}

export interface WasmGradientsResult {
  readonly date: string;
  readonly command: string;
  readonly repetitions: { readonly cheap: RunSize['cheap']; readonly step: RunSize['step'] };
  /** Share of the CPUs other processes used in the second before the section (null: unknown). */
  readonly otherProcessesBusy: number | null;
  /** a: plain tf.conv2d gradient (registered kernels); b: conv2dSame's custom gradient. */
  readonly convGradients: PairFigure[];
  /** a: wasm's native Conv2DBackpropInput kernel; b: the composed one (flip + forward conv). */
  readonly inputKernel: PairFigure[];
  /** a: sampling with the Inv1x1 cache off; b: on (warm: same params as the previous call). */
  readonly sampling: PairFigure & { readonly work: { readonly off: typeof channelMixWork; readonly on: typeof channelMixWork } };
}

const pair = (a: () => tf.Tensor[], b: () => tf.Tensor[], warmup: number, reps: number, before?: (which: 'a' | 'b') => void) => {
  const t = interleaved(a, b, warmup, reps, before);
  return { timeA: t.a, timeB: t.b, ratio: round(t.a.median_ms / t.b.median_ms, 3), pairedRatio: round(t.paired, 3) };
};

const LAYERS: ReadonlyArray<readonly [number, number, number]> = [
  [3, COUPLING.channels / 2, COUPLING.hidden],
  [1, COUPLING.hidden, COUPLING.hidden],
  [3, COUPLING.hidden, COUPLING.channels],
];

const convGradients = (size: RunSize): { conv: PairFigure[]; input: PairFigure[] } => {
  const { batch: n, size: s } = COUPLING;
  const { warmup, reps } = size.cheap;
  const conv: PairFigure[] = [];
  const input: PairFigure[] = [];
  for (const [k, cIn, cOut] of LAYERS) {
    const x = tf.randomNormal([n, s, s, cIn], 0, 1, 'float32', 1) as tf.Tensor4D;
    const kernel = tf.randomNormal([k, k, cIn, cOut], 0, 0.1, 'float32', 2) as tf.Tensor4D;
    const w = tf.randomNormal([n, s, s, cOut], 0, 1, 'float32', 3) as tf.Tensor4D;
    const bias = tf.zeros([cOut]) as tf.Tensor1D;
    const gradOf = (conv2: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D) => (): tf.Tensor[] =>
      tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv2(a as tf.Tensor4D, b as tf.Tensor4D), w)))([x, kernel]));
    const workload = `conv${k}x${k} ${cIn}->${cOut}, x [${x.shape.join(',')}]`;
    conv.push({
      workload,
      a: 'tf.conv2d (registered kernels)',
      b: 'conv2dSame (custom gradient)',
      ...pair(gradOf((a, b) => tf.conv2d(a, b, 1, 'same')), gradOf((a, b) => conv2dSame(a, b, bias)), warmup, reps),
    });
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape };
    const composed = (): tf.Tensor[] => {
      const info = wasmConv2DBackpropInput.kernelFunc({ inputs: { dy: w, filter: kernel }, attrs, backend: tf.backend() }) as tf.TensorInfo;
      return [tf.engine().makeTensorFromTensorInfo(info)];
    };
    input.push({
      workload,
      a: 'native Conv2DBackpropInput',
      b: 'composed (flip + forward Conv2D)',
      ...pair(() => {
        const native = nativeWasmConv2DBackpropInput();
        if (native === undefined) throw new Error('wasm\'s own Conv2DBackpropInput was not captured');
        return [tf.engine().makeTensorFromTensorInfo(native.kernelFunc({ inputs: { dy: w, filter: kernel }, attrs, backend: tf.backend() }) as tf.TensorInfo)];
      }, composed, warmup, reps),
    });
    tf.dispose([x, kernel, w, bias]);
  }
  return { conv, input };
};

const sampling = (size: RunSize): WasmGradientsResult['sampling'] => {
  const trainer = caflowTrainer(caflowSmall);
  const y = tf.tidy(() => dequantize(pixelBatch(caflowSmall, 1).y, 'center'));
  let seed = 0;
  const run = (): tf.Tensor[] => sampleOnce(trainer.model, trainer.params(), y, SAMPLES_K, seed++);
  // Turning the cache on empties it; one untimed call then warms it, as repeated sampling would.
  const before = (which: 'a' | 'b'): void => {
    setChannelMixCache(which === 'b');
    if (which === 'b') tf.dispose(run());
  };
  const countOne = (on: boolean): typeof channelMixWork => {
    setChannelMixCache(on);
    tf.dispose(run());
    const w0 = { ...channelMixWork };
    tf.dispose(run());
    return { reads: channelMixWork.reads - w0.reads, factorisations: channelMixWork.factorisations - w0.factorisations, slogdets: channelMixWork.slogdets - w0.slogdets, inverses: channelMixWork.inverses - w0.inverses };
  };
  const work = { off: countOne(false), on: countOne(true) };
  const p = pair(run, run, size.step.warmup, size.step.reps, before);
  setChannelMixCache(true);
  trainer.dispose();
  y.dispose();
  return {
    workload: `CAFLOW ${describeConfig(caflowSmall)}: sampling, k = ${SAMPLES_K}`,
    a: 'Inv1x1 cache off',
    b: 'Inv1x1 cache on (warm)',
    ...p,
    work,
  };
};

/** Runs the section on wasm (switching to it if needed, and back afterwards). */
export const runWasmGradients = async (size: RunSize, command: string, otherProcessesBusy: number | null): Promise<WasmGradientsResult> => {
  const previous: string | undefined = tf.getBackend();
  if (previous !== 'wasm' && !(await tf.setBackend('wasm'))) throw new Error('bench: the wasm backend is unavailable');
  registerWasmConvGradients();
  try {
    const { conv, input } = convGradients(size);
    return {
      date: new Date().toISOString(),
      command,
      repetitions: { cheap: size.cheap, step: size.step },
      otherProcessesBusy,
      convGradients: conv,
      inputKernel: input,
      sampling: sampling(size),
    };
  } finally {
    if (previous !== undefined && previous !== 'wasm') await tf.setBackend(previous);
  }
};
