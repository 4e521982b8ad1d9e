/**
 * The library core must bundle for the browser unchanged (the playground runs the same code):
 * no Node-only imports or globals anywhere under the core folders.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = ['algebra', 'dsl', 'layers', 'interpreters', 'caflow', 'training', 'io', 'tasks', 'metrics', 'experiments', 'distributions', 'plots'].map((f) => join('src', f));
// The page's own code, which bundles the core (its build script, playground/scripts, is Node).
const BROWSER = [...CORE, join('playground', 'src')];
const NODE_ONLY = /from ['"](node:[^'"]+|fs|path|os|child_process|url|module)['"]|require\(|\bprocess\.|\bBuffer\b|__dirname/;

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('the core is browser-safe', () => {
  it.each(BROWSER)('%s has no Node-only imports or globals', (folder) => {
    const offenders = files(folder).flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => [line, i] as const)
        .filter(([line]) => NODE_ONLY.test(line) && !line.trimStart().startsWith('*') && !line.trimStart().startsWith('//'))
        .map(([line, i]) => `${f}:${i + 1}: ${line.trim()}`),
    );
    expect(offenders).toEqual([]);
  });
});
