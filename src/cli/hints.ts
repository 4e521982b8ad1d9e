/**
 * The next-step hints commands print, built in one place so that each is runnable as printed: words
 * quoted for a POSIX shell, paths joined (no doubled slash), `--out` carried when it is not the
 * default, no placeholders, and torchrun with the flags every torch it runs under needs.
 */
import { join } from 'node:path';

/** The runs folder commands use without `--out`. */
export const DEFAULT_OUT = 'runs';

/** One word for a POSIX shell: as is when it is plain, else single-quoted. */
export const shellWord = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** A command line from its words. */
export const shellCommand = (...words: readonly string[]): string => words.map(shellWord).join(' ');

/** `typed-flows <args>` with `--out` when the runs folder is not the default. */
export const cliHint = (args: readonly string[], out: string = DEFAULT_OUT): string => shellCommand('typed-flows', ...args, ...(out === DEFAULT_OUT ? [] : ['--out', out]));

/**
 * torchrun's options for the exported train.py: one machine, `processes` processes. `--redirects 1 --tee 1`
 * (workers' stdout to a log file and the console): Debian's torch 1.13 under Python 3.11 cannot parse
 * its own default `--redirects 0` (AttributeError at start-up); both flags exist in every torchrun
 * (torch 1.9 on), so the same command runs everywhere.
 */
export const torchrunArgs = (processes: number): readonly string[] => ['--standalone', `--nproc_per_node=${processes}`, '--redirects', '1', '--tee', '1'];

/** {@link torchrunArgs} for 2 processes: what the printed hints use. */
export const TORCHRUN_ARGS: readonly string[] = torchrunArgs(2);

/** torchrun on the exported train.py, run from inside the export folder. */
export const torchrunCommand = (...trainArgs: readonly string[]): string => shellCommand('torchrun', ...TORCHRUN_ARGS, 'train.py', ...trainArgs);

/** What to run after `export --format pytorch`, from where the export was made: train in the folder, then import its checkpoint. */
export const pytorchExportHints = (folder: string, run: string, out: string = DEFAULT_OUT): readonly string[] => [
  `(cd ${shellWord(folder)} && ${torchrunCommand()})`,
  cliHint(['import', '--checkpoint', join(folder, 'checkpoint.safetensors'), '--name', `${run}-torch`], out),
];
