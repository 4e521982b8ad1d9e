/**
 * The PyTorch side of the benchmarks: makes sure Debian's python3-torch is importable under
 * /usr/bin/python3 (installing it with apt-get when it is not), then runs bench/pytorch/bench.py in its
 * own process and parses the JSON of medians it prints. Any failure is returned as a note, never thrown,
 * so the tfjs-only figures still get written.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's torch imports only under the system interpreter, not the python3 first on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

const here = dirname(fileURLToPath(import.meta.url));

export interface TorchAvailability {
  readonly ok: boolean;
  /** torch.__version__ when ok. */
  readonly version?: string;
  /** Whether this run installed it. */
  readonly installed: boolean;
  /** What went wrong, when not ok. */
  readonly note?: string;
}

const torchVersion = (): string | undefined => {
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

const tail = (s: string | null | undefined, n = 400): string => {
  const t = (s ?? '').trim();
  return t.length > n ? `...${t.slice(-n)}` : t;
};

/** Imports torch under /usr/bin/python3; if that fails, `apt-get update && apt-get install -y python3-torch`. */
export const ensureTorch = (log: (msg: string) => void): TorchAvailability => {
  const before = torchVersion();
  if (before !== undefined) return { ok: true, version: before, installed: false };
  log(`bench: '${SYSTEM_PYTHON} -c "import torch"' failed; installing Debian's python3-torch (apt-get update && apt-get install -y python3-torch)...`);
  const r = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y python3-torch'], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error !== undefined ? r.error.message : `exit code ${r.status}: ${tail(r.stderr)}`;
    return { ok: false, installed: false, note: `installing python3-torch failed (${why}); PyTorch ratios skipped` };
  }
  const after = torchVersion();
  return after === undefined
    ? { ok: false, installed: true, note: `python3-torch installed but '${SYSTEM_PYTHON} -c "import torch"' still fails; PyTorch ratios skipped` }
    : { ok: true, version: after, installed: true };
};

/** Medians in milliseconds, keyed by figure name, as printed by bench/pytorch/bench.py. */
export interface TorchResults {
  readonly torch: string;
  readonly threads: number;
  readonly figures: Record<string, { readonly median_ms: number; readonly samples_ms: readonly number[] }>;
  readonly shapes?: Record<string, unknown>;
}

export type TorchRun = { readonly ok: true; readonly results: TorchResults } | { readonly ok: false; readonly note: string };

/** Runs the PyTorch script with the given JSON config (passed as argv[1]); parses its last stdout line. */
export const runTorchBench = (config: Record<string, unknown>, log: (msg: string) => void): TorchRun => {
  const script = join(here, 'pytorch', 'bench.py');
  log(`bench: running ${SYSTEM_PYTHON} ${script} (its own process)`);
  const r = spawnSync(SYSTEM_PYTHON, [script, JSON.stringify(config)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, OMP_NUM_THREADS: '2', MKL_NUM_THREADS: '2' },
  });
  if (r.error !== undefined || r.status !== 0) {
    return { ok: false, note: `the PyTorch benchmark failed (${r.error?.message ?? `exit code ${r.status}`}): ${tail(r.stderr)}` };
  }
  if (r.stderr.trim() !== '') for (const line of r.stderr.trim().split('\n')) log(`  [pytorch] ${line}`);
  const lines = r.stdout.trim().split('\n');
  try {
    return { ok: true, results: JSON.parse(lines[lines.length - 1] ?? '') as TorchResults };
  } catch {
    return { ok: false, note: `the PyTorch benchmark printed no JSON: ${tail(r.stdout)}` };
  }
};
