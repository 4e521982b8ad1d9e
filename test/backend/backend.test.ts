import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import {
  BACKEND_ENV_VAR,
  BackendError,
  WASM_THREADS_ENV_VAR,
  parseBackendName,
  selectBackend,
  type BackendSelection,
} from '../../src/backend/index.js';

const savedEnv = process.env[BACKEND_ENV_VAR];

function collect(): { lines: string[]; log: (m: string) => void } {
  const lines: string[] = [];
  return { lines, log: (m) => lines.push(m) };
}

async function rejection(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BackendError);
    return e as BackendError;
  }
  throw new Error('expected a rejection');
}

// A user's TYPED_FLOWS_WASM_THREADS would change the log lines checked here (threads: wasm-threads.test.ts).
delete process.env[WASM_THREADS_ENV_VAR];

beforeEach(() => {
  delete process.env[BACKEND_ENV_VAR];
});

afterEach(async () => {
  if (savedEnv === undefined) delete process.env[BACKEND_ENV_VAR];
  else process.env[BACKEND_ENV_VAR] = savedEnv;
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('selectBackend', () => {
  it('auto picks wasm here, after node-gpu and node fail (not installed)', async () => {
    const { lines, log } = collect();
    const sel: BackendSelection = await selectBackend({ log });
    expect(sel.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(sel.tried).toEqual([
      { name: 'node-gpu', error: 'not installed' },
      { name: 'node', error: 'not installed' },
      { name: 'wasm' },
    ]);
    expect(lines).toEqual(['typed-flows: using backend wasm (node-gpu: not installed, node: not installed)']);
    // The wasm backend actually computes.
    expect(Array.from(tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync())).toEqual([4, 6]);
    expect(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')).toBe(false);
  });

  it('env var "auto" and "" mean auto', async () => {
    for (const v of ['auto', '', ' AUTO ']) {
      process.env[BACKEND_ENV_VAR] = v;
      expect((await selectBackend({ log: () => {} })).name).toBe('wasm');
      await tf.setBackend('cpu');
    }
  });

  it('forcing cpu via the option works', async () => {
    await tf.setBackend('wasm');
    const { lines, log } = collect();
    const sel = await selectBackend({ prefer: 'cpu', log });
    expect(sel).toEqual({ name: 'cpu', tried: [{ name: 'cpu' }] });
    expect(tf.getBackend()).toBe('cpu');
    expect(lines).toEqual(['typed-flows: using backend cpu (forced by the prefer option)']);
  });

  it('forcing cpu via the env var works', async () => {
    await tf.setBackend('wasm');
    process.env[BACKEND_ENV_VAR] = 'cpu';
    const { lines, log } = collect();
    const sel = await selectBackend({ log });
    expect(sel.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(lines).toEqual([`typed-flows: using backend cpu (forced by ${BACKEND_ENV_VAR}=cpu)`]);
  });

  it('forcing wasm via the env var works', async () => {
    process.env[BACKEND_ENV_VAR] = 'wasm';
    expect((await selectBackend({ log: () => {} })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('forcing node fails with a message that names the package and the fix', async () => {
    const { lines, log } = collect();
    const err = await rejection(selectBackend({ prefer: 'node', log }));
    expect(err.message).toContain("backend 'node' (forced by the prefer option) is unavailable");
    expect(err.message).toContain('@tensorflow/tfjs-node is not installed');
    expect(err.message).toContain('npm install @tensorflow/tfjs-node@4.22.0');
    expect(err.message).toContain('libtensorflow');
    expect(err.message).toContain('allowScripts');
    expect(err.tried).toEqual([{ name: 'node', error: 'not installed' }]);
    expect(lines).toEqual([]);
    expect(tf.getBackend()).toBe('cpu'); // unchanged
  });

  it('forcing node-gpu via the env var fails and says how to undo it', async () => {
    process.env[BACKEND_ENV_VAR] = 'node-gpu';
    const err = await rejection(selectBackend({ log: () => {} }));
    expect(err.message).toContain(`forced by ${BACKEND_ENV_VAR}=node-gpu`);
    expect(err.message).toContain('npm install @tensorflow/tfjs-node-gpu@4.22.0');
    expect(err.message).toContain(`unset ${BACKEND_ENV_VAR}`);
  });

  it('an unknown name in the env var fails, listing the valid names', async () => {
    process.env[BACKEND_ENV_VAR] = 'gpu';
    const err = await rejection(selectBackend({ log: () => {} }));
    expect(err.message).toBe(
      `typed-flows: unknown backend 'gpu' in ${BACKEND_ENV_VAR}; valid names are: auto, node-gpu, node, wasm, cpu.`,
    );
    expect(tf.getBackend()).toBe('cpu');
  });

  it('an unknown name in the option fails too (for untyped callers)', async () => {
    const prefer = 'tensorflow' as unknown as 'cpu';
    const err = await rejection(selectBackend({ prefer, log: () => {} }));
    expect(err.message).toContain("unknown backend 'tensorflow' in the prefer option");
  });

  it('the option overrides the env var', async () => {
    process.env[BACKEND_ENV_VAR] = 'node';
    expect((await selectBackend({ prefer: 'cpu', log: () => {} })).name).toBe('cpu');
    process.env[BACKEND_ENV_VAR] = 'bogus'; // not even parsed when the option is given
    expect((await selectBackend({ prefer: 'wasm', log: () => {} })).name).toBe('wasm');
    process.env[BACKEND_ENV_VAR] = 'cpu';
    expect((await selectBackend({ prefer: 'auto', log: () => {} })).name).toBe('wasm');
  });

  it('logs to console.error by default', async () => {
    const original = console.error;
    const lines: unknown[] = [];
    console.error = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      await selectBackend({ prefer: 'cpu' });
    } finally {
      console.error = original;
    }
    expect(lines).toEqual(['typed-flows: using backend cpu (forced by the prefer option)']);
  });

  it('parseBackendName', () => {
    expect(parseBackendName(' Node-GPU ')).toBe('node-gpu');
    expect(parseBackendName('')).toBe('auto');
    expect(() => parseBackendName('x', 'MY_VAR')).toThrow(/unknown backend 'x' in MY_VAR/);
  });
});

describe('wasm from another working directory', () => {
  it('finds its .wasm binaries without setWasmPaths', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const dir = await mkdtemp(join(tmpdir(), 'typed-flows-backend-'));
    try {
      const script = join(dir, 'run.mts');
      const mod = pathToFileURL(join(root, 'src/backend/index.ts')).href;
      const tfUrl = pathToFileURL(join(root, 'node_modules/@tensorflow/tfjs/dist/tf.node.js')).href;
      await writeFile(
        script,
        `import { selectBackend } from ${JSON.stringify(mod)};\n` +
          `import * as tf from ${JSON.stringify(tfUrl)};\n` +
          `const sel = await selectBackend({ log: () => {} });\n` +
          `console.log(JSON.stringify({ name: sel.name, sum: Array.from(tf.add(tf.tensor1d([1]), tf.tensor1d([2])).dataSync()) }));\n`,
      );
      const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/esm/index.mjs')).href;
      const env = { ...process.env };
      delete env[BACKEND_ENV_VAR];
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', tsx, script], { cwd: dir, env });
      expect(JSON.parse(stdout.trim().split('\n').pop() ?? '')).toEqual({ name: 'wasm', sum: [3] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
