/** Every `import { ... } from 'typed-flows...'` in README.md and docs/*.md names something the package exports. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, { default: string }> };
const files = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const imports = files.flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)].map((m) => ({
    file,
    from: m[2] as string,
    names: (m[1] as string)
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '' && !n.startsWith('type ')),
  })),
);

describe('documented imports', () => {
  it('the docs import only from the package (not from its source paths)', () => {
    expect(imports.length).toBeGreaterThan(5);
    expect(imports.filter((i) => !i.from.startsWith('typed-flows')).map((i) => `${i.file}: ${i.from}`)).toEqual([]);
  });

  it.each(imports.filter((i) => i.from.startsWith('typed-flows')).map((i) => [i.file, i.from, i] as const))('%s: %s', async (_file, from, i) => {
    const entry = pkg.exports[from === 'typed-flows' ? '.' : `./${from.slice('typed-flows/'.length)}`];
    expect(entry, `package.json has no export for '${from}'`).toBeDefined();
    const source = `../../${(entry as { default: string }).default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')}`;
    const mod = (await import(source)) as Record<string, unknown>;
    expect(i.names.filter((n) => !(n in mod))).toEqual([]);
  });
});
