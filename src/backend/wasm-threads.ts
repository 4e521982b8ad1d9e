// Multi-threaded wasm backend in Node (an "edge" module: it uses Node APIs). Opt-in: see docs/backends.md.
//
// tfjs-backend-wasm 4.22 ships a threaded SIMD build, but its Node entry point turns it off
// (WASM_HAS_MULTITHREAD_SUPPORT = false under Node, tensorflow/tfjs#3830). Forcing the flag alone never
// finishes initialising:
// - the pthread worker is created from a `blob:` URL, which worker_threads.Worker rejects, and the
//   worker is told to load the main script from a Blob, which it cannot read in Node;
// - XNNPACK's pool is capped at os.cpus().length / 2 threads (the C code assumes hyper-threading),
//   so a 2-core machine gets 1 thread;
// - emscripten refs a worker while its pthread runs, and XNNPACK's pool threads never end, so Node
//   would never exit.
// The workarounds, all at backend initialisation: a worker_threads.Worker subclass as the global
// `Worker` (emscripten's glue calls `new Worker(...)`) that starts the package's own worker source with
// `eval: true`, points it at the package's own glue file (wasm-out/tfjs-backend-wasm-threaded-simd.js,
// the same emscripten output as the bundled one) and keeps loaded workers unref'd; and os.cpus()
// reporting 2 x threads while the module initialises. Flags, setThreadsCount and the .wasm binary go
// through tfjs's public API.
import { createRequire } from 'node:module';
import os from 'node:os';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';

/** Environment variable with the number of wasm threads (unset, 0 or 1: single-threaded; 'auto': one per CPU). */
export const WASM_THREADS_ENV_VAR = 'TYPED_FLOWS_WASM_THREADS';

/** tfjs-backend-wasm pre-creates 8 pthread workers and caps XNNPACK's pool at 8. */
export const MAX_WASM_THREADS = 8;

/** How long the threaded module may take to initialise before we give up on it. */
export const DEFAULT_WASM_THREADS_TIMEOUT_MS = 30_000;

const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

/**
 * Parses a thread count as written by a user: a non-negative integer (0, 1 and '' all mean
 * single-threaded), or 'auto' (one per CPU, capped at {@link MAX_WASM_THREADS}). Returns undefined
 * for anything else.
 */
export function parseWasmThreads(raw: string): number | undefined {
  const s = raw.trim().toLowerCase();
  if (s === '') return 1;
  if (s === 'auto') return Math.max(1, Math.min(MAX_WASM_THREADS, os.availableParallelism()));
  return /^\d+$/.test(s) ? Math.max(1, Number(s)) : undefined;
}

export interface WasmThreadsOptions {
  /** Give up (and fall back) when initialisation takes longer. Default {@link DEFAULT_WASM_THREADS_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Replaces the pthread worker's source; for tests of the failure path. */
  readonly workerSource?: string;
}

export interface WasmThreadsResult {
  /** Threads the wasm backend computes with now (1: single-threaded). */
  readonly threads: number;
  /** Why the requested threads are not in use (absent when they are, or when 1 was asked for). */
  readonly fallback?: string;
}

interface WasmModule {
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

interface PthreadMessage {
  readonly cmd?: unknown;
  readonly urlOrBlob?: unknown;
}

const isMessage = (m: unknown): m is PthreadMessage => typeof m === 'object' && m !== null;

const requireHere = createRequire(import.meta.url);

/** The package's pthread worker source, its glue file, and a Worker subclass that uses them. */
function pthreadWorkerClass(workerSource: string | undefined, onFailure: (reason: string) => void, live: Set<NodeWorker>) {
  const glue = requireHere.resolve(`${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.js`);
  const mod: unknown = requireHere(`${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`);
  const contents =
    typeof mod === 'object' && mod !== null && 'wasmWorkerContents' in mod && typeof mod.wasmWorkerContents === 'string'
      ? mod.wasmWorkerContents
      : undefined;
  if (workerSource === undefined && contents === undefined) throw new Error(`${WASM_PACKAGE} has no wasmWorkerContents`);
  // The package stores the source in a template literal, so its "\n" escapes became newlines inside
  // string literals; tfjs re-escapes them the same way before making its Blob.
  const source = workerSource ?? (contents ?? '').replace(/\n/g, '\\n');

  return class PthreadWorker extends NodeWorker {
    // Set to true by emscripten's glue itself when the worker reports "loaded".
    loaded = false;
    private glueOnError: ((e: Error) => void) | undefined;

    constructor(url: string | URL, options?: WorkerOptions) {
      const isBlob = String(url).startsWith('blob:');
      super(isBlob ? source : url, isBlob ? { ...options, eval: true } : options);
      live.add(this);
      this.on('exit', (code) => {
        live.delete(this);
        if (!this.loaded) onFailure(`a pthread worker exited with code ${code} before loading`);
      });
    }

    // emscripten's 'error' listener calls worker.onerror, whose handler rethrows (an uncaught
    // exception); before the worker has loaded we report the error as a failure to start instead.
    get onerror(): (e: Error) => void {
      return (e) => {
        if (this.loaded && this.glueOnError !== undefined) this.glueOnError(e);
        else onFailure(`a pthread worker failed: ${e.message}`);
      };
    }

    set onerror(f: (e: Error) => void) {
      this.glueOnError = f;
    }

    // emscripten refs a worker while it runs a pthread; XNNPACK's pool threads run (parked) for the
    // life of the process, so that would keep Node alive forever. The main thread blocks on them
    // synchronously inside each op, so they never need to hold the event loop once loaded.
    override ref(): void {
      if (!this.loaded) super.ref();
    }

    override postMessage(value: unknown, transferList?: Parameters<NodeWorker['postMessage']>[1]): void {
      // The "load" message carries the main script as a Blob; the worker can only read a file.
      const v = isMessage(value) && value.cmd === 'load' && typeof value.urlOrBlob !== 'string' ? { ...value, urlOrBlob: glue } : value;
      super.postMessage(v, transferList);
    }
  };
}

/** Replaces os.cpus() by a list of `n` entries; returns the undo. */
function pretendCpus(n: number): () => void {
  const real = os.cpus;
  os.cpus = () => {
    const cpus = real();
    return Array.from({ length: n }, (_, i) => cpus[i % cpus.length] as os.CpuInfo);
  };
  return () => {
    os.cpus = real;
  };
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string') return e.message;
  return String(e);
}

/** Puts the wasm backend back into its never-initialised state, so tf.setBackend('wasm') starts over. */
function resetWasmBackend(): void {
  const factory = tf.findBackendFactory('wasm');
  if (factory === null || tf.engine().registry['wasm'] === undefined) return;
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', factory, 2); // tfjs-backend-wasm's own priority
}

/** Threads of the initialised wasm backend (it throws before initialisation). */
export async function wasmThreadsInUse(): Promise<number> {
  const wasm: WasmModule = await import(WASM_PACKAGE);
  return wasm.getThreadsCount();
}

/**
 * Activates the wasm backend with `threads` threads (capped at {@link MAX_WASM_THREADS}). It must run
 * before the wasm backend is first initialised in this process (tfjs keeps one instance). When
 * anything fails it activates the single-threaded backend instead and says why in `fallback`; it
 * throws only when that fails too. `threads` <= 1 just activates the single-threaded backend.
 */
export async function activateWasmWithThreads(threads: number, options: WasmThreadsOptions = {}): Promise<WasmThreadsResult> {
  const wasm: WasmModule = await import(WASM_PACKAGE);
  const wanted = Math.min(Math.floor(threads), MAX_WASM_THREADS);
  const single = async (fallback?: string): Promise<WasmThreadsResult> => {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasm.setThreadsCount(-1);
    if (!(await tf.setBackend('wasm'))) throw new Error(`tf.setBackend('wasm') returned false`);
    const result = { threads: wasm.getThreadsCount() };
    return fallback === undefined ? result : { ...result, fallback };
  };

  if (tf.engine().registry['wasm'] !== undefined) {
    // Already initialised: its thread count is fixed for this process.
    if (!(await tf.setBackend('wasm'))) throw new Error(`tf.setBackend('wasm') returned false`);
    const current = wasm.getThreadsCount();
    return wanted <= 1 || current === wanted
      ? { threads: current }
      : { threads: current, fallback: `the wasm backend was already initialised in this process with ${current} thread(s)` };
  }
  if (wanted <= 1) return single();
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) return single('the threaded build needs WebAssembly SIMD, which this Node lacks');

  const live = new Set<NodeWorker>();
  let fail: (reason: string) => void = () => undefined;
  const failed = new Promise<string>((resolve) => {
    fail = resolve;
  });
  let undoCpus: (() => void) | undefined;
  const previousWorker = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  let timer: NodeJS.Timeout | undefined;
  let reason: string | undefined;
  try {
    const PthreadWorker = pthreadWorkerClass(options.workerSource, (r) => fail(r), live);
    // emscripten's glue assigns globalThis.Worker = worker_threads.Worker before creating its workers;
    // this accessor keeps our subclass in place through that assignment.
    Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => PthreadWorker, set: () => undefined });
    undoCpus = pretendCpus(2 * wanted);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(wanted);
    const timeoutMs = options.timeoutMs ?? DEFAULT_WASM_THREADS_TIMEOUT_MS;
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`initialisation took longer than ${timeoutMs} ms`), timeoutMs);
    });
    reason = await Promise.race([
      tf.setBackend('wasm').then(
        (ok) => (ok ? undefined : `tf.setBackend('wasm') returned false`),
        (e: unknown) => `tf.setBackend('wasm') failed: ${errorMessage(e)}`,
      ),
      failed,
      timedOut,
    ]);
    if (reason === undefined) {
      const actual = wasm.getThreadsCount();
      if (actual !== wanted) reason = `XNNPACK started ${actual} thread(s), not ${wanted}`;
    }
    // Left in place (as a plain value, like emscripten's own assignment) for workers created later.
    Object.defineProperty(globalThis, 'Worker', { configurable: true, writable: true, value: PthreadWorker });
  } catch (e) {
    reason = errorMessage(e);
  } finally {
    clearTimeout(timer);
    undoCpus?.();
  }
  if (reason === undefined) return { threads: wanted };

  // Workers of a failed start would keep Node alive; the half-made backend must not be reused.
  for (const w of live) void w.terminate();
  if (previousWorker === undefined) delete (globalThis as { Worker?: unknown }).Worker;
  else Object.defineProperty(globalThis, 'Worker', previousWorker);
  resetWasmBackend();
  return single(reason);
}
