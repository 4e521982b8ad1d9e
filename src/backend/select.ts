// Backend selection for Node (an "edge" module: it may use Node APIs; keep such imports out of the core).
//
// Order tried in 'auto' mode: node-gpu, node, wasm, cpu. A backend wins when its package imports and
// `tf.setBackend(<tfjs name>)` resolves true. The user can force one with `prefer` or the environment
// variable TYPED_FLOWS_BACKEND (the option wins over the variable).
//
// wasm in Node: the Node build of @tensorflow/tfjs-backend-wasm (its package "main") locates its .wasm
// binaries relative to its own file (__dirname), so no setWasmPaths call is needed and it works from any
// cwd (checked in test/backend/backend.test.ts). By default it runs single-threaded in Node: tfjs reports
// WASM_HAS_MULTITHREAD_SUPPORT = false under Node (tensorflow/tfjs#3830) and then loads the SIMD binary.
// The `wasmThreads` option or TYPED_FLOWS_WASM_THREADS opts into the threaded build
// (src/backend/wasm-threads.ts); if that fails, wasm runs single-threaded and one line says why.
// Once wasm is active, typed-flows' own wasm kernels are registered (src/backend/wasm-kernels.ts).
// tfjs's cpu-backend banner ("Hi, looks like you are running TensorFlow.js in Node.js ...") is
// silenced (src/backend/quiet.ts): the log line here already names the backend in use.
import * as tf from '@tensorflow/tfjs';
import { silenceCpuBanner } from './quiet.js';
import { registerWasmKernels } from './wasm-kernels.js';
import { activateWasmWithThreads, parseWasmThreads, WASM_THREADS_ENV_VAR, wasmThreadsInUse } from './wasm-threads.js';

// Part of the public backend API (src/backend/index.ts re-exports this module).
export { WASM_THREADS_ENV_VAR } from './wasm-threads.js';

/** User-facing backend names. */
export type BackendName = 'node-gpu' | 'node' | 'wasm' | 'cpu';
/** What a user may ask for: a backend, or 'auto' (first that works, in {@link BACKEND_NAMES} order). */
export type BackendPreference = BackendName | 'auto';

/** The 'auto' order. */
export const BACKEND_NAMES: readonly BackendName[] = ['node-gpu', 'node', 'wasm', 'cpu'];

/** Environment variable that forces a backend (overridden by the `prefer` option). */
export const BACKEND_ENV_VAR = 'TYPED_FLOWS_BACKEND';

/** The name each backend registers with tfjs: tfjs-node and tfjs-node-gpu both register 'tensorflow'. */
export const TFJS_BACKEND_NAMES: Readonly<Record<BackendName, string>> = {
  'node-gpu': 'tensorflow',
  node: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

/** The npm package that provides each backend. */
export const BACKEND_PACKAGES: Readonly<Record<BackendName, string>> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

/** One backend `selectBackend` tried, with why it was not used. */
export interface BackendAttempt {
  /** The backend tried. */
  readonly name: BackendName;
  /** Why it was not used; absent for the backend that was selected. */
  readonly error?: string;
}

/** What `selectBackend` returns: the active backend and every one tried. */
export interface BackendSelection {
  /** The backend now active in tfjs. */
  readonly name: BackendName;
  /** Every backend tried, in order; the last one (without `error`) is the winner. */
  readonly tried: BackendAttempt[];
  /** Threads the wasm backend computes with (present when `name` is 'wasm'). */
  readonly wasmThreads?: number;
}

/** Options of `selectBackend`. */
export interface SelectBackendOptions {
  /** Force a backend, or 'auto'. Wins over the TYPED_FLOWS_BACKEND environment variable. */
  readonly prefer?: BackendPreference;
  /** Where the "using backend ..." line goes. Default: console.error. */
  readonly log?: (msg: string) => void;
  /**
   * Threads for the wasm backend (default 1, single-threaded); only honoured when wasm is first
   * initialised in the process. Wins over the TYPED_FLOWS_WASM_THREADS environment variable.
   */
  readonly wasmThreads?: number;
}

/** Thrown when a forced backend is unavailable, when no backend works, or for an unknown backend name. */
export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    message: string,
    readonly tried: readonly BackendAttempt[] = [],
  ) {
    super(message);
  }
}

const PREFERENCES: readonly BackendPreference[] = ['auto', ...BACKEND_NAMES];

function isPreference(s: string): s is BackendPreference {
  return (PREFERENCES as readonly string[]).includes(s);
}

/**
 * Parses a backend name as written by a user (case and surrounding blanks ignored; '' means 'auto').
 * `source` names where it came from, for the error message.
 */
export function parseBackendName(raw: string, source = BACKEND_ENV_VAR): BackendPreference {
  const s = raw.trim().toLowerCase();
  if (s === '') return 'auto';
  if (isPreference(s)) return s;
  throw new BackendError(
    `typed-flows: unknown backend '${raw}' in ${source}; valid names are: ${PREFERENCES.join(', ')}.`,
  );
}

function firstLine(s: string, max = 200): string {
  const line = (s.split('\n').find((l) => l.trim() !== '') ?? s).trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string') return e.message;
  return String(e);
}

function isNotInstalled(pkg: string, e: unknown): boolean {
  const code = typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
  const msg = errorMessage(e);
  const namesPkg = msg.includes(`'${pkg}'`) || msg.includes(`"${pkg}"`);
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return namesPkg;
  return namesPkg && /cannot find (package|module)|failed to (load|resolve)/i.test(msg);
}

const NOT_INSTALLED = 'not installed';

/** What the user should do when `name` failed with `error`. */
function fixHint(name: BackendName, error: string): string {
  const pkg = BACKEND_PACKAGES[name];
  const scripts =
    `Its install script downloads the native libtensorflow library, so it needs network access and must be ` +
    `allowed to run (not --ignore-scripts; with npm 11, not denied in package.json "allowScripts" — ` +
    `see docs/backends.md).`;
  switch (name) {
    case 'node-gpu':
    case 'node': {
      const gpu = name === 'node-gpu' ? ' (Linux x64 with CUDA/cuDNN installed)' : '';
      return error === NOT_INSTALLED
        ? `Fix: npm install ${pkg}@4.22.0${gpu}. ${scripts}`
        : `Fix: re-run its install script with network access: npm rebuild ${pkg}${gpu}. ${scripts}`;
    }
    case 'wasm':
      return `Fix: npm install ${pkg}@4.22.0 (a regular dependency of typed-flows; no install script).`;
    case 'cpu':
      return `Fix: reinstall ${pkg} (a regular dependency of typed-flows).`;
  }
}

async function importPackage(pkg: string): Promise<void> {
  // A non-literal specifier: the node packages are optional and have no type declarations here.
  const specifier: string = pkg;
  await import(specifier);
}

interface WasmThreadsRequest {
  readonly threads: number;
  /** Where the request came from, for the fallback line. */
  readonly source: string;
  readonly log: (msg: string) => void;
}

/** Activates wasm with the requested threads; returns the threads in use (falls back to 1 with a log line). */
async function activateWasm(request: WasmThreadsRequest): Promise<number> {
  const r = await activateWasmWithThreads(request.threads);
  if (r.fallback !== undefined) {
    request.log(`typed-flows: wasm threads unavailable (${request.source}), using ${r.threads}: ${firstLine(r.fallback)}`);
  }
  return r.threads;
}

/**
 * Imports the package of `name` and activates it in tfjs; returns why it failed (undefined on success)
 * and, for wasm, its thread count.
 */
async function tryBackend(name: BackendName, wasm: WasmThreadsRequest): Promise<{ error?: string; wasmThreads?: number }> {
  const pkg = BACKEND_PACKAGES[name];
  try {
    await importPackage(pkg);
  } catch (e) {
    return { error: isNotInstalled(pkg, e) ? NOT_INSTALLED : `failed to load: ${firstLine(errorMessage(e))}` };
  }
  const tfjsName = TFJS_BACKEND_NAMES[name];
  const previous = tf.engine().backendName;
  const hadPrevious = previous != null && tf.engine().registry[previous] != null;
  let error: string | undefined;
  let wasmThreads: number | undefined;
  try {
    if (name === 'wasm' && wasm.threads > 1) wasmThreads = await activateWasm(wasm);
    else if (!(await tf.setBackend(tfjsName))) error = `tf.setBackend('${tfjsName}') returned false`;
    else if (name === 'wasm') wasmThreads = await wasmThreadsInUse();
  } catch (e) {
    error = `tf.setBackend('${tfjsName}') failed: ${firstLine(errorMessage(e))}`;
  }
  // A failed setBackend leaves tfjs pointing at the failed backend; put the previous one back.
  if (error !== undefined && hadPrevious && previous !== tfjsName) {
    await tf.setBackend(previous).catch(() => false);
  }
  if (error === undefined && name === 'wasm') {
    registerWasmKernels();
  }
  if (error === undefined) silenceCpuBanner();
  return error === undefined ? (wasmThreads === undefined ? {} : { wasmThreads }) : { error };
}

/** " (2 threads; ...)"-style detail for the log line; '' when there is nothing to say. */
function details(wasmThreads: number | undefined, other: string): string {
  const parts = [wasmThreads !== undefined && wasmThreads > 1 ? `${wasmThreads} threads` : '', other].filter((p) => p !== '');
  return parts.length === 0 ? '' : ` (${parts.join('; ')})`;
}

function wasmThreadsRequest(options: SelectBackendOptions, log: (msg: string) => void): WasmThreadsRequest {
  if (options.wasmThreads !== undefined) {
    if (!Number.isInteger(options.wasmThreads) || options.wasmThreads < 0) {
      throw new BackendError(`typed-flows: invalid wasmThreads ${options.wasmThreads}; use a non-negative integer.`);
    }
    return { threads: options.wasmThreads, source: `wasmThreads: ${options.wasmThreads}`, log };
  }
  const raw = process.env[WASM_THREADS_ENV_VAR];
  if (raw === undefined) return { threads: 1, source: 'default', log };
  const threads = parseWasmThreads(raw);
  if (threads === undefined) {
    throw new BackendError(
      `typed-flows: invalid thread count '${raw}' in ${WASM_THREADS_ENV_VAR}; use a non-negative integer (0 or 1: single-threaded) or 'auto'.`,
    );
  }
  return { threads, source: `${WASM_THREADS_ENV_VAR}=${raw}`, log };
}

function describeTried(tried: readonly BackendAttempt[]): string {
  return tried
    .filter((t) => t.error !== undefined)
    .map((t) => `${t.name}: ${t.error}`)
    .join(', ');
}

/**
 * Chooses and activates the tfjs backend (see the module comment for the rules), then reports it through
 * `log`. Throws {@link BackendError} when a forced backend is unavailable (with a fix), when the
 * environment variable holds an unknown name, or when no backend works.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const log = options.log ?? ((msg: string) => console.error(msg));
  const envRaw = process.env[BACKEND_ENV_VAR];
  let prefer: BackendPreference;
  let source: string;
  if (options.prefer !== undefined) {
    prefer = parseBackendName(options.prefer, 'the prefer option');
    source = `the prefer option`;
  } else if (envRaw !== undefined) {
    prefer = parseBackendName(envRaw, BACKEND_ENV_VAR);
    source = `${BACKEND_ENV_VAR}=${envRaw}`;
  } else {
    prefer = 'auto';
    source = 'default';
  }

  const wasm = wasmThreadsRequest(options, log);
  const tried: BackendAttempt[] = [];
  if (prefer !== 'auto') {
    const { error, wasmThreads } = await tryBackend(prefer, wasm);
    tried.push(error === undefined ? { name: prefer } : { name: prefer, error });
    if (error !== undefined) {
      const undo =
        source === 'the prefer option' ? `or pass prefer: 'auto'` : `or unset ${BACKEND_ENV_VAR} to choose automatically`;
      throw new BackendError(
        `typed-flows: backend '${prefer}' (forced by ${source}) is unavailable: ` +
          `${BACKEND_PACKAGES[prefer]} ${error === NOT_INSTALLED ? 'is not installed' : error}. ` +
          `${fixHint(prefer, error)} Or choose another backend (${BACKEND_NAMES.join(', ')}), ${undo}.`,
        tried,
      );
    }
    log(`typed-flows: using backend ${prefer}${details(wasmThreads, `forced by ${source}`)}`);
    return wasmThreads === undefined ? { name: prefer, tried } : { name: prefer, tried, wasmThreads };
  }

  for (const name of BACKEND_NAMES) {
    const { error, wasmThreads } = await tryBackend(name, wasm);
    if (error === undefined) {
      tried.push({ name });
      log(`typed-flows: using backend ${name}${details(wasmThreads, describeTried(tried))}`);
      return wasmThreads === undefined ? { name, tried } : { name, tried, wasmThreads };
    }
    tried.push({ name, error });
  }
  throw new BackendError(`typed-flows: no tfjs backend could be activated (${describeTried(tried)}).`, tried);
}
