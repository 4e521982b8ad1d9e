/**
 * Exit codes of the command line (README.md, "Exit codes"), in a module with no heavy imports so that
 * `--help` and option errors end without loading the error mapping of src/cli/errors.ts.
 */
import type { CommanderError } from 'commander';

export const EXIT = { ok: 0, checkFailed: 1, badInput: 2, couldNotRun: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** commander has printed its message; --help and --version end normally, option errors are bad input. */
export const commanderExit = (e: CommanderError): { readonly code: ExitCode; readonly message: string } => ({ code: e.exitCode === 0 ? EXIT.ok : EXIT.badInput, message: '' });
