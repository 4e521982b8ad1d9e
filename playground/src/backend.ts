/**
 * Backend choice in the browser: webgl where it works in float32 on a real GPU, then wasm, then cpu.
 * The page's `?backend=` parameter forces one. "Works" is checked, not assumed: webgl must render
 * float32 (a half-float GPU would wreck the log-dets), must not be a software rasteriser (SwiftShader
 * or llvmpipe: on this project's 2-core test machine the playground's 8 samples took 1.0 s warm and
 * 10.8 s cold on SwiftShader webgl against 0.1 s on threaded wasm), and must compute a small
 * convolution correctly.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../../src/backend/wasm-kernels.js';
import { errorText } from './session.js';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

export type BrowserBackend = 'webgl' | 'wasm' | 'cpu';
export const BROWSER_BACKENDS: readonly BrowserBackend[] = ['webgl', 'wasm', 'cpu'];

export interface BackendChoice {
  readonly name: BrowserBackend;
  /** Why each backend tried before it was passed over. */
  readonly skipped: ReadonlyArray<{ readonly name: BrowserBackend; readonly reason: string }>;
}

// The wasm binaries are emitted by the bundler next to the page, so the page works from any path.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});

/** A 3x3 convolution whose answer is known: every output of ones * ones over a 3x3 window is 9 (centre). */
const computesCorrectly = (): boolean =>
  tf.tidy(() => {
    const y = tf.conv2d(tf.ones([1, 5, 5, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 1]) as tf.Tensor4D, 1, 'same');
    return Math.abs((y.dataSync()[12] as number) - 18) < 1e-4;
  });

/** The WebGL renderer's name, e.g. "ANGLE (..., SwiftShader Device ...)"; undefined without WebGL. */
const webglRenderer = (): string | undefined => {
  // A worker (the studio trains in one) has no document: an OffscreenCanvas there.
  const canvas = (): HTMLCanvasElement | OffscreenCanvas => (typeof document === 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas'));
  const gl = (canvas().getContext('webgl2') ?? canvas().getContext('webgl')) as WebGLRenderingContext | null;
  if (gl === null) return undefined;
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(debug === null ? gl.RENDERER : debug.UNMASKED_RENDERER_WEBGL));
};

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software/i;

const tryBackend = async (name: BrowserBackend, forced: boolean): Promise<string | undefined> => {
  try {
    const renderer = name === 'webgl' ? webglRenderer() : undefined;
    if (name === 'webgl' && !forced && renderer !== undefined && SOFTWARE_RENDERER.test(renderer)) return `software renderer (${renderer}); wasm is faster on a CPU`;
    if (!(await tf.setBackend(name))) return 'it did not initialise';
    await tf.ready();
    if (name === 'webgl' && !tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) return 'this GPU cannot render float32';
    if (!computesCorrectly()) return 'a test convolution came out wrong';
    return undefined;
  } catch (e) {
    return errorText(e);
  }
};

export const isBrowserBackend = (s: string | null): s is BrowserBackend => s !== null && (BROWSER_BACKENDS as readonly string[]).includes(s);

/** The first backend of `order` that works (forced: only that one, failing loudly). */
export const chooseBackend = async (forced?: BrowserBackend): Promise<BackendChoice> => {
  const order = forced === undefined ? BROWSER_BACKENDS : [forced];
  const skipped: Array<{ name: BrowserBackend; reason: string }> = [];
  for (const name of order) {
    const reason = await tryBackend(name, forced !== undefined);
    if (reason === undefined) {
      // wasm's own Slice copies the whole input first; sampling splits tensors at every coupling.
      if (name === 'wasm') registerWasmKernels();
      return { name, skipped };
    }
    skipped.push({ name, reason });
  }
  throw new Error(`no backend works here: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
};
