/**
 * The two errors of the command line a user acts on, in a module with no imports, so that every
 * command (and `--help`) can name them without loading tfjs.
 */

/** A problem with the user's input: reported as one paragraph, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command could not run for a reason outside the user's input (e.g. an output folder it cannot write): exit code 3. */
export class CouldNotRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CouldNotRunError';
  }
}

/** Text of a file without a leading UTF-8 byte-order mark (editors on Windows write one; JSON.parse rejects it). */
export const stripBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
