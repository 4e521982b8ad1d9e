// The threaded wasm backend in Node (src/backend/wasm-threads.ts). tfjs initialises the wasm backend
// once per process, so each configuration runs in a child process; that also checks the child exits
// by itself (pthread workers must not keep Node alive).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_ENV_VAR, BackendError, selectBackend } from '../../src/backend/index.js';
import { MAX_WASM_THREADS, parseWasmThreads, WASM_THREADS_ENV_VAR } from '../../src/backend/wasm-threads.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const url = (p: string): string => JSON.stringify(pathToFileURL(join(root, p)).href);

// Modes: 'select' runs selectBackend (threads from the environment), then a coupling-net-like
// forward+backward and, with PROBE_TICKS, a conv loop measuring CPU time per OS thread (Linux /proc);
// 'exit' / 'hang' start threads with a pthread worker that exits at once / never loads.
const CHILD = `
import * as tf from ${url('node_modules/@tensorflow/tfjs/dist/tf.node.js')};
import { readdirSync, readFileSync } from 'node:fs';
import { registerWasmKernels, selectBackend } from ${url('src/backend/index.ts')};
import { activateWasmWithThreads, wasmThreadsInUse } from ${url('src/backend/wasm-threads.ts')};

const mode = process.argv[2];
const lines = [];
let result = {};
if (mode === 'select') {
  result = await selectBackend({ log: (m) => lines.push(m) });
} else {
  const workerSource = mode === 'exit' ? 'process.exit(3)' : 'setInterval(() => {}, 1000)';
  result = await activateWasmWithThreads(2, { workerSource, timeoutMs: 2000 });
  registerWasmKernels(); // as selectBackend does
}

const x = tf.randomNormal([2, 16, 16, 6], 0, 1, 'float32', 1);
const k1 = tf.randomNormal([3, 3, 6, 32], 0, 0.3, 'float32', 2);
const k2 = tf.randomNormal([1, 1, 32, 32], 0, 0.2, 'float32', 3);
const k3 = tf.randomNormal([3, 3, 32, 12], 0, 0.1, 'float32', 4);
const w = tf.randomNormal([2, 16, 16, 12], 0, 1, 'float32', 5);
const net = (x, a, b, c) =>
  tf.sum(tf.mul(tf.conv2d(tf.relu(tf.conv2d(tf.relu(tf.conv2d(x, a, 1, 'same')), b, 1, 'same')), c, 1, 'same'), w));
const outputs = [net(x, k1, k2, k3), ...tf.grads(net)([x, k1, k2, k3])].map((t) => Array.from(t.dataSync()));

let ticks = null;
if (process.env.PROBE_TICKS === '1' && process.platform === 'linux') {
  const perThread = () => new Map(readdirSync('/proc/self/task').map((t) => {
    const stat = readFileSync('/proc/self/task/' + t + '/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [t, Number(f[11]) + Number(f[12])]; // utime + stime
  }));
  const a = tf.randomNormal([16, 32, 32, 64], 0, 1, 'float32', 6);
  const k = tf.randomNormal([3, 3, 64, 64], 0, 0.1, 'float32', 7);
  tf.conv2d(a, k, 1, 'same').dispose();
  const before = perThread();
  const t0 = performance.now();
  while (performance.now() - t0 < 1500) tf.conv2d(a, k, 1, 'same').dispose();
  ticks = [...perThread()].map(([t, v]) => v - (before.get(t) ?? 0)).sort((p, q) => q - p);
}
console.log(JSON.stringify({ result, threads: await wasmThreadsInUse(), backend: tf.getBackend(), lines, outputs, ticks }));
`;

interface ChildOutput {
  readonly result: { readonly wasmThreads?: number; readonly threads?: number; readonly fallback?: string };
  readonly threads: number;
  readonly backend: string;
  readonly lines: string[];
  readonly outputs: number[][];
  readonly ticks: number[] | null;
}

let dir = '';
let script = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'typed-flows-wasm-threads-'));
  script = join(dir, 'child.mts');
  await writeFile(script, CHILD);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the child; rejects if it fails or does not exit within 60 s (e.g. a worker keeps Node alive). */
async function child(mode: string, env: Record<string, string>): Promise<ChildOutput> {
  const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/esm/index.mjs')).href;
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv[BACKEND_ENV_VAR];
  if (env[WASM_THREADS_ENV_VAR] === undefined) delete childEnv[WASM_THREADS_ENV_VAR];
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', tsx, script, mode], {
    cwd: dir,
    env: childEnv,
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildOutput;
}

/** Largest |a - b| / (1 + |b|) over all outputs. */
function maxRelDiff(a: number[][], b: number[][]): number {
  expect(a.map((o) => o.length)).toEqual(b.map((o) => o.length));
  let m = 0;
  a.forEach((o, i) => o.forEach((v, j) => (m = Math.max(m, Math.abs(v - (b[i]?.[j] ?? NaN)) / (1 + Math.abs(b[i]?.[j] ?? NaN))))));
  return m;
}

// Float tolerance for threaded vs single-threaded results. XNNPACK gives each output tile to one
// thread, so the sums are the same; on this machine the results were bit-identical.
const TOLERANCE = 1e-5;

describe('wasm threads (child processes)', () => {
  let single: ChildOutput;
  let threaded: ChildOutput;

  beforeAll(async () => {
    // One after the other: both at once would compete for the same cores in the tick probe.
    single = await child('select', {});
    threaded = await child('select', { [WASM_THREADS_ENV_VAR]: '2', PROBE_TICKS: '1' });
  }, 120_000);

  it('single-threaded by default, with the log line unchanged', () => {
    expect(single.backend).toBe('wasm');
    expect(single.result.wasmThreads).toBe(1);
    expect(single.threads).toBe(1);
    expect(single.lines).toEqual(['typed-flows: using backend wasm (node-gpu: not installed, node: not installed)']);
  });

  it(`${WASM_THREADS_ENV_VAR}=2 gives 2 threads, reported in the result and the log line`, () => {
    expect(threaded.backend).toBe('wasm');
    expect(threaded.result.wasmThreads).toBe(2);
    expect(threaded.threads).toBe(2);
    expect(threaded.lines).toEqual(['typed-flows: using backend wasm (2 threads; node-gpu: not installed, node: not installed)']);
  });

  it(`threaded results equal the single-threaded ones within ${TOLERANCE} (relative)`, () => {
    expect(threaded.outputs.length).toBe(5); // the loss and 4 gradients
    expect(maxRelDiff(threaded.outputs, single.outputs)).toBeLessThanOrEqual(TOLERANCE);
    expect(single.outputs[0]?.[0]).not.toBe(0);
  });

  it.skipIf(process.platform !== 'linux')('a conv really runs on two OS threads', () => {
    const [first = 0, second = 0] = threaded.ticks ?? [];
    expect(first).toBeGreaterThan(20); // the loop ran for 1.5 s of wall time
    // Single-threaded, the second-busiest thread stays near 0 (1 tick of 147 here); threaded, the pool
    // thread takes about half (59 of 67, and 189 of 194, even with both cores busy with other jobs).
    expect(second).toBeGreaterThan(0.15 * first);
  });

  it('falls back to single-threaded when a pthread worker dies, and still exits', async () => {
    const out = await child('exit', {});
    expect(out.result).toEqual({ threads: 1, fallback: 'a pthread worker exited with code 3 before loading' });
    expect(out.backend).toBe('wasm');
    expect(maxRelDiff(out.outputs, single.outputs)).toBeLessThanOrEqual(TOLERANCE);
  }, 60_000);

  it('falls back when the workers never load (timeout), terminating them so the process exits', async () => {
    const out = await child('hang', {});
    expect(out.result).toEqual({ threads: 1, fallback: 'initialisation took longer than 2000 ms' });
    expect(out.threads).toBe(1);
    expect(maxRelDiff(out.outputs, single.outputs)).toBeLessThanOrEqual(TOLERANCE);
  }, 60_000);
});

describe('wasm threads (this process)', () => {
  it('a request after wasm was initialised single-threaded falls back with one line saying why', async () => {
    await selectBackend({ prefer: 'wasm', log: () => {} });
    const lines: string[] = [];
    const sel = await selectBackend({ prefer: 'wasm', wasmThreads: 2, log: (m) => lines.push(m) });
    expect(sel.wasmThreads).toBe(1);
    expect(lines).toEqual([
      'typed-flows: wasm threads unavailable (wasmThreads: 2), using 1: the wasm backend was already initialised in this process with 1 thread(s)',
      'typed-flows: using backend wasm (forced by the prefer option)',
    ]);
    await tf.setBackend('cpu');
  });

  it('parseWasmThreads', () => {
    expect(parseWasmThreads(' 4 ')).toBe(4);
    expect(parseWasmThreads('0')).toBe(1);
    expect(parseWasmThreads('')).toBe(1);
    const auto = parseWasmThreads('AUTO') ?? 0;
    expect(auto).toBeGreaterThanOrEqual(1);
    expect(auto).toBeLessThanOrEqual(MAX_WASM_THREADS);
    expect(parseWasmThreads('two')).toBeUndefined();
    expect(parseWasmThreads('-1')).toBeUndefined();
    expect(parseWasmThreads('1.5')).toBeUndefined();
  });

  it('an invalid thread count fails before any backend is touched', async () => {
    const saved = process.env[WASM_THREADS_ENV_VAR];
    process.env[WASM_THREADS_ENV_VAR] = 'lots';
    try {
      await expect(selectBackend({ prefer: 'cpu', log: () => {} })).rejects.toThrow(BackendError);
      await expect(selectBackend({ prefer: 'cpu', log: () => {} })).rejects.toThrow(
        `invalid thread count 'lots' in ${WASM_THREADS_ENV_VAR}`,
      );
    } finally {
      if (saved === undefined) delete process.env[WASM_THREADS_ENV_VAR];
      else process.env[WASM_THREADS_ENV_VAR] = saved;
    }
    await expect(selectBackend({ prefer: 'cpu', wasmThreads: 1.5, log: () => {} })).rejects.toThrow('invalid wasmThreads 1.5');
  });
});
