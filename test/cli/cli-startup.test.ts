/**
 * `typed-flows --help` starts without loading tfjs (issue 23: 0.7 s or less on 2 cores; npm run bench,
 * section 8, times it): the modules src/cli/main.ts imports statically, and theirs in turn, import no
 * tfjs, ONNX or io-ts-heavy spec code. Each command loads its modules when it runs (dynamic imports).
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Relative modules and packages a TypeScript file imports at load time (`import type` and `import()` left out). */
const staticImports = (file: string): { local: string[]; packages: string[] } => {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
  return {
    local: specifiers.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts'))),
    packages: specifiers.filter((s) => !s.startsWith('.')),
  };
};

const closure = (entry: string): { files: Set<string>; packages: Set<string> } => {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (f: string): void => {
    if (files.has(f)) return;
    files.add(f);
    const { local, packages: p } = staticImports(f);
    for (const x of p) packages.add(x);
    for (const x of local) visit(x);
  };
  visit(entry);
  return { files, packages };
};

describe('start-up of the command line', () => {
  it('main.ts loads no tfjs, ONNX or interpreter code before a command runs', () => {
    const { files, packages } = closure(join(process.cwd(), 'src/cli/main.ts'));
    expect([...packages].filter((p) => /tensorflow|onnx/.test(p))).toEqual([]);
    expect([...files].map((f) => f.slice(process.cwd().length + 1)).filter((f) => /interpreters|dsl\/|algebra|caflow\/(?!directions)/.test(f))).toEqual([]);
    // The walk sees what it should: main's own light modules.
    expect([...files].some((f) => f.endsWith('src/cli/export-choices.ts'))).toBe(true);
  });

  it('the import scanner finds a known heavy import (so the test above can fail)', () => {
    const { packages } = closure(join(process.cwd(), 'src/cli/limits.ts'));
    expect([...packages].some((p) => p.startsWith('@tensorflow/tfjs'))).toBe(true);
  });

  it('--help and an option error answer with exit 0 and 2', () => {
    const help = spawnSync(process.execPath, ['bin/typed-flows.js', '--help'], { encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: typed-flows');
    const bad = spawnSync(process.execPath, ['bin/typed-flows.js', 'sample', '--k', '0', '--name', 'x'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });
});

describe('the demo finds the CLI it runs its steps with', () => {
  it('from the sources and from the compiled dist/ alike', async () => {
    const { demoCli } = await import('../../src/cli/commands/demo.js');
    expect(demoCli).toBe(join(process.cwd(), 'bin', 'typed-flows.js'));
    const compiled = join(process.cwd(), 'dist', 'src', 'cli', 'commands', 'demo.js');
    // npm ci builds dist/ (the prepare script); a checkout without it has nothing compiled to check.
    if (!existsSync(compiled)) return;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { demoCli } from ${JSON.stringify(pathToFileURL(compiled).href)}; console.log(demoCli);`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(join(process.cwd(), 'bin', 'typed-flows.js'));
  });
});
