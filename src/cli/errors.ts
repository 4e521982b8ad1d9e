/**
 * The one place where the command line turns an error into what the user sees and an exit code.
 *
 * Exit codes (documented in README.md, "Exit codes"):
 *   0 ok; 1 a check failed (verify found a bad bijector, training diverged);
 *   2 bad input or options (the message says what to fix); 3 could not run (backend unavailable,
 *   a file system failure, or a bug: the message says which).
 * Messages are kept short: long paths are shortened with an ellipsis, long problem lists show
 * their first few entries and how many more there are, and no stack trace is printed unless
 * TYPED_FLOWS_DEBUG is set.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CommanderError } from 'commander';
import { BackendError } from '../backend/select.js';
import { SpecError } from '../dsl/errors.js';
import { CheckpointError } from '../io/safetensors.js';
import { TrainingDivergedError } from '../training/step.js';
import { CouldNotRunError, UsageError } from './io.js';
import { OnnxExportError } from '../interpreters/onnx/errors.js';
import { OnnxRuntimeMissingError } from '../node/onnx-runtime.js';

import { commanderExit, EXIT, type ExitCode } from './exit-codes.js';

export { EXIT, type ExitCode } from './exit-codes.js';

/** Environment variable that makes the CLI print stack traces of unexpected errors. */
export const DEBUG_ENV_VAR = 'TYPED_FLOWS_DEBUG';

/** Problems listed before "... and N more". */
export const MAX_PROBLEMS = 8;
/** Longest path printed in full. */
export const MAX_PATH = 80;

/** `/a/b/.../y/z`: keeps the start and the end of a long path, so it stays recognisable. */
export const shortenPath = (path: string, max = MAX_PATH): string => {
  if (path.length <= max) return path;
  const keep = max - 1;
  const head = Math.ceil(keep * 0.4);
  return `${path.slice(0, head)}…${path.slice(path.length - (keep - head))}`;
};

/**
 * `$.steps[0].steps[0]…steps[0].kind (201 levels)`: a long JSON path (of a deeply nested spec) keeps
 * its first and last steps whole and says how deep it is.
 */
export const shortenJsonPath = (path: string, max = MAX_PATH): string => {
  if (path.length <= max) return path;
  const steps = path.slice(1).match(/\.[^.[]+(?:\[[^\]]*\])*|\[[^\]]*\]/g) ?? [];
  let head = '$';
  let tail = '';
  let i = 0;
  let j = steps.length;
  // Take steps alternately from the front and the back while they fit.
  while (i < j) {
    const front = steps[i] as string;
    if (head.length + tail.length + front.length > max / 2 + tail.length) break;
    head += front;
    i++;
    const back = steps[j - 1] as string;
    if (i >= j || head.length + tail.length + back.length > max) break;
    tail = back + tail;
    j--;
  }
  return i >= j ? path : `${head}…${tail.replace(/^\./, '')} (${steps.length} levels)`;
};

/**
 * Shortens every long path in a message: file paths (something with a '/' or '\') keep their start
 * and end; JSON paths (`$.…`) keep their first and last steps (see {@link shortenJsonPath}).
 */
export const shortenPaths = (message: string, max = MAX_PATH): string =>
  message
    .replace(/\$[.[][^\s:'"`,;()]*/g, (token) => shortenJsonPath(token, max))
    .replace(/[^\s'"`()<>,;]*[/\\][^\s'"`()<>,;]*/g, (token) => shortenPath(token, max));

/** The first `max` lines of a list and a count of the rest. */
export const firstProblems = (problems: readonly string[], max = MAX_PROBLEMS): string[] =>
  problems.length <= max ? [...problems] : [...problems.slice(0, max), `... and ${problems.length - max} more (${problems.length} in all)`];

/** Keeps a multi-line message to its first lines (see {@link firstProblems}). */
const limitLines = (message: string): string => {
  const [head = '', ...rest] = message.split('\n');
  const listed = rest.filter((l) => /^\s/.test(l));
  const tail = rest.filter((l) => !/^\s/.test(l));
  if (listed.length <= MAX_PROBLEMS + 1) return message;
  return [head, ...firstProblems(listed).map((l) => (/^\s/.test(l) ? l : `  ${l}`)), ...tail].join('\n');
};

const errnoOf = (e: unknown): (NodeJS.ErrnoException & { dest?: string }) | undefined =>
  e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string'
    ? (e as NodeJS.ErrnoException & { dest?: string })
    : undefined;

/** `dir/.name.<pid>.<random>.tmp` (the temporary file of an atomic write) -> `dir/name`, the user's path. */
const userPath = (path: string): string => {
  const m = /^\.(.+)\.\d+\.[0-9a-z]+\.tmp$/.exec(basename(path));
  return m === null ? path : join(dirname(path), m[1] as string);
};

/** A file system error in words: which file, and what is wrong with it. */
const describeErrno = (e: NodeJS.ErrnoException & { dest?: string }): { code: ExitCode; message: string } => {
  // For a rename (atomic writes), the destination is the user's path; the source is our temporary file,
  // which a failed open of the temporary file names too.
  const path = userPath(e.dest ?? e.path ?? '');
  const quoted = `'${path}'`;
  switch (e.code) {
    case 'ENOENT': {
      const dir = dirname(path);
      return {
        code: EXIT.badInput,
        message: path !== '' && !existsSync(dir) ? `cannot write ${quoted}: the directory '${dir}' does not exist; create it first or choose another path.` : `${quoted} does not exist.`,
      };
    }
    case 'EISDIR':
      return { code: EXIT.badInput, message: `${quoted} is a directory; give the path of a file (one inside it, for example).` };
    case 'ENOTDIR':
      return { code: EXIT.badInput, message: `${quoted}: a part of this path is a file, not a directory.` };
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return { code: EXIT.badInput, message: `${quoted}: permission denied (${e.code}); choose a path you can write to.` };
    case 'EEXIST':
      return { code: EXIT.badInput, message: `${quoted} already exists.` };
    case 'ENOSPC':
    case 'EDQUOT':
      return { code: EXIT.couldNotRun, message: `${quoted}: no space left on the device (${e.code}); nothing was overwritten.` };
    default:
      return { code: EXIT.couldNotRun, message: `${e.syscall ?? 'file operation'} ${quoted} failed: ${e.code}.` };
  }
};

const firstLine = (s: string): string => (s.split('\n').find((l) => l.trim() !== '') ?? s).trim();

/** Errors that mean the process ran out of memory or addressable space (a backstop: requests are estimated first). */
const isOutOfMemory = (e: unknown): boolean =>
  (e instanceof RangeError && /array length|allocation failed|buffer|out of memory/i.test(e.message)) ||
  (e instanceof Error && /memory access out of bounds|out of memory|Cannot enlarge memory/i.test(e.message));

/** A step run in a child process (demo's train and eval) failed; it printed its own message. */
export class ChildExitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'ChildExitError';
  }
}

export interface ErrorReport {
  /** Exit code of the process. */
  readonly code: ExitCode;
  /** What to print on stderr ('' when it has been printed already, e.g. by commander). */
  readonly message: string;
}

/** What the user sees for an error and the exit code it gets. */
export const describeError = (e: unknown, env: NodeJS.ProcessEnv = process.env): ErrorReport => {
  const say = (code: ExitCode, message: string, stack = ''): ErrorReport => ({
    code,
    message: message === '' ? '' : `typed-flows: ${shortenPaths(limitLines(message))}${stack}`,
  });
  if (e instanceof CommanderError) return commanderExit(e);
  if (e instanceof CheckpointError) return say(EXIT.badInput, [e.summary, ...firstProblems(e.problems).map((p) => `  ${p}`)].join('\n'));
  if (e instanceof UsageError || e instanceof SpecError) return say(EXIT.badInput, e.message);
  if (e instanceof CouldNotRunError) return say(EXIT.couldNotRun, e.message);
  // A model the ONNX exporter cannot lower: the message names the spec path.
  if (e instanceof OnnxExportError) return say(EXIT.badInput, `cannot export to ONNX: ${e.message}`);
  if (e instanceof OnnxRuntimeMissingError) return say(EXIT.couldNotRun, e.message);
  if (e instanceof BackendError) {
    const message = e.message.replace(/^typed-flows: /, '');
    // No backend was tried: the name itself (or the thread count) is wrong.
    return say(e.tried.length === 0 ? EXIT.badInput : EXIT.couldNotRun, message);
  }
  if (e instanceof TrainingDivergedError) {
    return say(EXIT.checkFailed, `${e.message}\nThe last good state is saved in the run's checkpoint; --resume continues from it.`);
  }
  if (e instanceof ChildExitError) {
    const code = e.exitCode === EXIT.checkFailed || e.exitCode === EXIT.badInput ? e.exitCode : EXIT.couldNotRun;
    return say(code, e.message);
  }
  const errno = errnoOf(e);
  if (errno !== undefined) {
    const r = describeErrno(errno);
    return say(r.code, r.message);
  }
  const debug = env[DEBUG_ENV_VAR] !== undefined && env[DEBUG_ENV_VAR] !== '' && env[DEBUG_ENV_VAR] !== '0';
  const stack = debug && e instanceof Error && e.stack !== undefined ? `\n${e.stack}` : '';
  if (isOutOfMemory(e)) {
    return say(EXIT.couldNotRun, `out of memory: ${firstLine((e as Error).message)}. Ask for less (a smaller --batch, --k, --count or shape).`, stack);
  }
  const text = e instanceof Error ? firstLine(e.message) : String(e);
  return say(
    EXIT.couldNotRun,
    `unexpected error: ${text}${stack === '' ? ` (this may be a bug: set ${DEBUG_ENV_VAR}=1 for the stack trace and report it)` : ''}`,
    stack,
  );
};
