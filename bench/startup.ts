/**
 * Section 8: start-up of the command line, `node bin/typed-flows.js --help`, as users run it: from the
 * compiled dist/ (what `npm ci` builds through `prepare`), and from the sources through tsx
 * (TYPED_FLOWS_FROM_SOURCE=1, what the tests run). "Cold" is the first run with an empty tsx cache
 * (a fresh TMPDIR: tsx compiles every file) or, for dist/, the first run after the build; "warm" the
 * median of the runs after it. Target: 0.7 s or less for the compiled CLI on 2 cores.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, round } from './common.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'typed-flows.js');

/** The start-up target of issue 23 (seconds, `--help` of the compiled CLI on 2 cores). */
export const STARTUP_TARGET_SECONDS = 0.7;

export interface StartupFigure {
  readonly how: 'compiled dist/' | 'sources through tsx';
  readonly coldSeconds: number;
  readonly warmSeconds: number;
  readonly warmRuns: number;
}

export interface StartupResult {
  readonly date: string;
  readonly command: string;
  readonly figures: readonly StartupFigure[];
  readonly targetSeconds: number;
  /** Share of all CPUs other processes used just before (null: unknown). */
  readonly otherProcessesBusy: number | null;
}

const timeHelp = (env: NodeJS.ProcessEnv): number => {
  const started = performance.now();
  const r = spawnSync(process.execPath, [bin, '--help'], { env, encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`typed-flows --help exited ${r.status}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  return seconds;
};

const measure = (how: StartupFigure['how'], env: NodeJS.ProcessEnv, warmRuns: number): StartupFigure => {
  const coldSeconds = timeHelp(env);
  const warm = Array.from({ length: warmRuns }, () => timeHelp(env));
  return { how, coldSeconds: round(coldSeconds), warmSeconds: round(median(warm)), warmRuns };
};

/** Builds dist/ when it is missing (`npm run build`), then times both ways of starting. */
export const runStartup = (quick: boolean, command: string, otherProcessesBusy: number | null): StartupResult => {
  const build = (): void => {
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build failed: ${r.stdout.trim().split('\n')[0] ?? ''}`);
  };
  build();
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) throw new Error('the build wrote no dist/src/cli/main.js');
  const runs = quick ? 3 : 7;
  const { TYPED_FLOWS_FROM_SOURCE: _unused, ...base } = process.env;
  const compiled = measure('compiled dist/', base, runs);
  const cache = mkdtempSync(join(tmpdir(), 'typed-flows-tsx-cache-'));
  try {
    const source = measure('sources through tsx', { ...base, TYPED_FLOWS_FROM_SOURCE: '1', TMPDIR: cache }, runs);
    return { date: new Date().toISOString(), command, figures: [compiled, source], targetSeconds: STARTUP_TARGET_SECONDS, otherProcessesBusy };
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
};
