/**
 * The Python the package ships: the .py files (the exporter's runtime, CAFLOW's model and training
 * script) and the modules generated from specs. Their TypeScript copies are up to date (npm run
 * gen:python); every file and generated module compiles under /usr/bin/python3 and lints clean with
 * Debian's pyflakes (skipped with the reason where it is missing, required under CI=true, where .ci/run
 * installs python3-pyflakes); with torch, the runtime's files import as the packages they are.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caflowConfig, caflowSpec } from '../../src/caflow/index.js';
import { caflowToPyTorch } from '../../src/caflow/pytorch.js';
import { caflowFiles } from '../../src/caflow/py/files.js';
import type { Shape } from '../../src/dsl/index.js';
import { toPyTorch } from '../../src/interpreters/pytorch/index.js';
import { generatedModulePath, PYTHON_FOLDERS, pythonFilesIn, pythonFilesModule } from '../../scripts/python-files.js';
import { SYSTEM_PYTHON } from '../../bench/pytorch.js';
import { primitiveMakers } from '../support/arbitraries.js';
import { torchAvailable } from '../support/pytorch-helpers.js';

const python = (args: readonly string[]) => spawnSync(SYSTEM_PYTHON, [...args], { encoding: 'utf8' });
const pyflakes = python(['-m', 'pyflakes', '--version']).status === 0;
const ci = process.env.CI === 'true';

/** Every shipped .py file and a generated module per kind (image and vector events) and per CAFLOW variant. */
const allPython = (): string[] => {
  const dir = mkdtempSync(join(tmpdir(), 'typed-flows-python-'));
  const shipped = PYTHON_FOLDERS.flatMap(({ dir: d }) => pythonFilesIn(d).map(([f]) => resolve(d, f)));
  const shapes: Shape[] = [[4, 4, 4], [4]];
  const flows = shapes.flatMap((s) => primitiveMakers(s).map((m, i) => [`flow_${s.length}_${i}`, toPyTorch(m.make(s))] as const));
  const models = (['caflow', 'dualglow'] as const).map(
    (variant) =>
      [
        `model_${variant}`,
        caflowToPyTorch(caflowSpec(caflowConfig({ target: [2, 8, 8], condition: [1, 8, 8], scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 8, conditionalHidden: 6, variant }))),
      ] as const,
  );
  const generated = [...flows, ...models].map(([name, code]) => {
    const path = join(dir, `${name}.py`);
    writeFileSync(path, code);
    return path;
  });
  return [...shipped, ...generated];
};

describe('the shipped Python', () => {
  it.each(PYTHON_FOLDERS)('$dir: the generated TypeScript copy is up to date (else run npm run gen:python)', ({ dir, exportName }) => {
    const upToDate = readFileSync(generatedModulePath(dir), 'utf8') === pythonFilesModule(dir, exportName, pythonFilesIn(dir));
    expect(upToDate, `${generatedModulePath(dir)} differs from the .py files beside it: run npm run gen:python`).toBe(true);
  });

  const files = allPython();

  it('compiles: every .py file and every generated module', () => {
    const r = python(['-c', 'import py_compile, sys\nfor f in sys.argv[1:]:\n    py_compile.compile(f, doraise=True)', ...files]);
    expect(r.status, r.stderr).toBe(0);
    expect(files.length).toBeGreaterThan(20);
  });

  it.skipIf(!pyflakes && !ci)(`lints clean with pyflakes${pyflakes ? '' : ' (skipped: python3-pyflakes is not installed; apt-get install python3-pyflakes)'}`, () => {
    expect(pyflakes, 'CI=true requires python3-pyflakes (.ci/run installs it)').toBe(true);
    const r = python(['-m', 'pyflakes', ...files]);
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it("defines what train.py imports from the exported model.py", () => {
    const imported = /^from model import ([^#\n]+)/m.exec(caflowFiles['train.py'] ?? '')?.[1]?.split(',').map((n) => n.trim()) ?? [];
    expect(imported.length).toBeGreaterThan(3);
    const model = caflowToPyTorch(caflowSpec(caflowConfig({ target: [2, 8, 8], condition: [1, 8, 8], scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 8, conditionalHidden: 6 })));
    const missing = imported.filter((name) => !new RegExp(`^(?:class|def) ${name}\\b|^${name} =`, 'm').test(model));
    expect(missing).toEqual([]);
  });

  it.skipIf(!torchAvailable().ok)('imports: the runtime files as packages (their imports name what exists)', () => {
    const modules = PYTHON_FOLDERS.flatMap(({ dir }) =>
      pythonFilesIn(dir)
        .map(([f]) => f.replace(/\.py$/, ''))
        .filter((f) => f !== 'train' && f !== '__init__')
        .map((f) => `${dir.replace(/^src\//, '').replaceAll('/', '.')}.${f}`),
    );
    const r = python(['-c', `import importlib, sys\nsys.path.insert(0, 'src')\nfor m in sys.argv[1:]:\n    importlib.import_module(m)`, ...modules]);
    expect(r.status, r.stderr).toBe(0);
  });
});
