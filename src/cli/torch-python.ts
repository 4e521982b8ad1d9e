/**
 * The Python that trains a run on PyTorch: `--python`, else TYPED_FLOWS_PYTHON, else the first of
 * /usr/bin/python3 (Debian's python3-torch imports only there) and `python3` on PATH that has torch.
 * What the machine lacks (no Python, no torch, no GPU for --device cuda) is a CouldNotRunError (exit 3)
 * saying what to install or set.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { CouldNotRunError } from './user-errors.js';

/** The environment variable naming the Python to train with (after `--python`). */
export const PYTHON_ENV_VAR = 'TYPED_FLOWS_PYTHON';

/** The system interpreter: the one Debian's python3-torch installs for. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Where the Python came from, for messages. */
export type PythonSource = '--python' | typeof PYTHON_ENV_VAR | 'the usual places';

/** A Python interpreter that can import torch. */
export interface TorchPython {
  readonly path: string;
  readonly from: PythonSource;
}

/** Finds torch without importing it (an import takes seconds): 0 found, 1 not found. */
const FIND_TORCH = 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("torch") else 1)';

const INSTALL =
  'Install torch for it (Debian and Ubuntu: apt-get install python3-torch, which installs it for /usr/bin/python3; elsewhere that Python\'s -m pip install torch), ' +
  `or point --python (or ${PYTHON_ENV_VAR}) at a Python 3 that imports torch.`;

type Probe = { readonly ok: true } | { readonly ok: false; readonly why: string };

const probe = (python: string): Probe => {
  const r = spawnSync(python, ['-c', FIND_TORCH], { encoding: 'utf8', timeout: 60_000 });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code ?? r.error.message;
    return { ok: false, why: `'${python}' cannot be run (${code})` };
  }
  if (r.status === 0) return { ok: true };
  return { ok: false, why: r.status === 1 && r.stderr.trim() === '' ? `'${python}' has no torch` : `'${python}' failed (exit ${r.status}: ${r.stderr.trim().split('\n').pop() ?? ''})` };
};

/** The Python to train with (see the file comment); a CouldNotRunError when none has torch. */
export const findTorchPython = (option: string | undefined, env: NodeJS.ProcessEnv = process.env): TorchPython => {
  const fromEnv = env[PYTHON_ENV_VAR];
  const given: TorchPython | undefined =
    option !== undefined ? { path: option, from: '--python' } : fromEnv !== undefined && fromEnv !== '' ? { path: fromEnv, from: PYTHON_ENV_VAR } : undefined;
  const candidates: readonly TorchPython[] = given !== undefined ? [given] : [SYSTEM_PYTHON, 'python3'].map((path) => ({ path, from: 'the usual places' as const }));
  const problems: string[] = [];
  for (const c of candidates) {
    const p = probe(c.path);
    // A path (not a bare name looked up on PATH) made absolute: train.py runs in another working directory.
    if (p.ok) return c.path.includes('/') ? { ...c, path: resolve(c.path) } : c;
    problems.push(p.why);
  }
  const where = given !== undefined ? `the Python that ${given.from} names` : `no Python of the usual places (${SYSTEM_PYTHON}, then python3 on PATH)`;
  throw new CouldNotRunError(`--engine pytorch needs torch, and ${where} has it: ${problems.join('; ')}. ${INSTALL}`);
};

/** A CouldNotRunError unless torch under `python` sees at least `processes` GPUs (one per process). */
export const checkCuda = (python: TorchPython, processes: number): void => {
  const r = spawnSync(python.path, ['-c', 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)'], { encoding: 'utf8', timeout: 120_000 });
  const gpus = r.status === 0 ? Number(r.stdout.trim()) : 0;
  if (gpus >= processes) return;
  const seen = r.status === 0 ? `torch under '${python.path}' sees ${gpus} GPU${gpus === 1 ? '' : 's'}` : `'${python.path}' could not import torch (${r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`})`;
  throw new CouldNotRunError(
    gpus === 0
      ? `--device cuda: ${seen}. Install a CUDA build of torch for that Python and an NVIDIA driver (see pytorch.org, "Get started"), or train on the CPU with --device cpu.`
      : `--device cuda --nproc ${processes}: ${seen}, one per process is needed. Pass --nproc ${gpus} or fewer.`,
  );
};
