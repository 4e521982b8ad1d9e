/** Reading specs from disk for the CLI, with errors a user can act on. */
import { readFile } from 'node:fs/promises';
import * as E from 'fp-ts/lib/Either.js';
import { parseSpec } from '../dsl/codec.js';
import type { FlowSpec } from '../dsl/spec.js';

import { stripBom, UsageError } from './user-errors.js';

export { CouldNotRunError, stripBom, UsageError } from './user-errors.js';

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
