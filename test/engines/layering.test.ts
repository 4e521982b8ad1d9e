/**
 * Model-specific code lives with the model: the generic interpreters (src/interpreters) import nothing
 * from src/caflow, whose ONNX graphs and PyTorch module build on them instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

/** The module specifiers a file imports or re-exports (static and dynamic). */
const importsOf = (text: string): string[] => [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1] as string);

describe('import rules', () => {
  it('src/interpreters imports nothing from src/caflow', () => {
    const offenders = files(join('src', 'interpreters')).flatMap((f) =>
      importsOf(readFileSync(f, 'utf8'))
        .filter((spec) => /(^|\/)caflow(\/|$)/.test(spec) && spec.startsWith('.'))
        .map((spec) => `${f}: imports '${spec}'`),
    );
    expect(offenders).toEqual([]);
  });

  it('finds an import from src/caflow where there is one (the rule can fail)', () => {
    expect(importsOf("import { caflowSpec } from '../../caflow/model.js';\nexport * from \"../caflow/index.js\";")).toEqual(['../../caflow/model.js', '../caflow/index.js']);
  });
});
