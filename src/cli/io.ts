/** Reading specs from disk for the CLI, with errors a user can act on. */
import { readFile } from 'node:fs/promises';
import * as E from 'fp-ts/lib/Either.js';
import { parseSpec } from '../dsl/codec.js';
import type { FlowSpec } from '../dsl/spec.js';

/** A problem with the user's input: reported as one paragraph, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Text of a file without a leading UTF-8 byte-order mark (editors on Windows write one; JSON.parse rejects it). */
export const stripBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** The command could not run for a reason outside the user's input (e.g. an output folder it cannot write): exit code 3. */
export class CouldNotRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CouldNotRunError';
  }
}

export const readSpecFile = async (file: string): Promise<FlowSpec> => {
  let text: string;
  try {
    text = stripBom(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `Spec file '${file}' does not exist. Pass the path of a JSON spec, e.g. examples/glow.json.`
        : code === 'EISDIR'
          ? `Spec file '${file}' is a directory. Pass the path of a JSON spec, e.g. examples/glow.json.`
        : `Cannot read spec file '${file}': ${(e as Error).message}`,
    );
  }
  const parsed = parseSpec(text);
  if (E.isLeft(parsed)) {
    const lines = parsed.left.map((i) => `  ${i.path}: ${i.message}`).join('\n');
    throw new UsageError(`'${file}' is not a valid flow spec:\n${lines}\nFix the node(s) named above ($ is the root of the JSON).`);
  }
  return parsed.right;
};
