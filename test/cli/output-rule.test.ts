/**
 * The one output rule (src/cli/output-rule.ts), command by command: every case of issue 23 exits 2
 * (3 for a place that cannot hold files) with a one-paragraph message, and no byte of what existed
 * changes. The commands are called in-process where that reaches the rule (it is checked before any
 * work), and through the real CLI for the exit codes and the hang under /proc.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { describeError, EXIT } from '../../src/cli/errors.js';
import { exportCommand } from '../../src/cli/commands/export.js';
import { exportDistributionCommand } from '../../src/cli/commands/export-distribution.js';
import { exportPyTorchCommand } from '../../src/cli/commands/export-pytorch.js';
import { fitCommand, type FitCommandOptions } from '../../src/cli/commands/fit.js';
import { importCommand } from '../../src/cli/commands/import.js';
import { reportCommand } from '../../src/cli/commands/report.js';
import { sampleCommand } from '../../src/cli/commands/sample.js';
import { checkOutput, folderKind, realPath, REPORT_MARKER } from '../../src/cli/output-rule.js';

const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-output-rule-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const put = (path: string, text: string | Uint8Array): string => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
};

/** Every file under `dir` with its bytes: what "nothing changed" compares. */
const snapshot = (dir: string): Map<string, string> => {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(tmp, p), readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return files;
};

// A run (config.json + checkpoint), a fit folder, a PyTorch export and a file of the user's, as the
// rule recognises them. Their bytes are arbitrary: the rule decides before anything is read as a model.
const runs = join(tmp, 'runs');
const run = join(runs, 'mine');
put(join(run, 'config.json'), '{"name":"mine"}');
put(join(run, 'checkpoint.safetensors'), 'trained weights');
put(join(run, 'history.json'), '[]');
const other = join(runs, 'other');
put(join(other, 'config.json'), '{"name":"other"}');
put(join(other, 'checkpoint.safetensors'), 'other weights');
const fitDir = join(tmp, 'fit-output');
for (const f of ['model.safetensors', 'history.json', 'report.md']) put(join(fitDir, f), `earlier fit ${f}`);
const torch = join(tmp, 'torch');
for (const f of ['model.py', 'train.py', 'checkpoint.safetensors', 'config.json']) put(join(torch, f), `export ${f}`);
const userFile = put(join(tmp, 'existing.txt'), 'a file of the user');

/** Runs `f`, which must be refused by the rule with `code`, and checks that nothing under tmp changed. */
const refused = async (f: () => Promise<unknown>, code: number, pattern: RegExp): Promise<string> => {
  const before = snapshot(tmp);
  const error = await f().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the command went through').toBeDefined();
  const report = describeError(error);
  expect(report.code, report.message).toBe(code);
  expect(report.message).toMatch(pattern);
  // One paragraph: one line, no stack.
  expect(report.message.split('\n')).toHaveLength(1);
  expect(snapshot(tmp)).toEqual(before);
  return report.message;
};

const fitOptions = (output: string, force = false): FitCommandOptions => ({
  flow: join(tmp, 'no-flow.json'),
  data: join(tmp, 'no-data.csv'),
  steps: 1,
  batch: 4,
  lr: 1e-3,
  seed: 0,
  output,
  validation: 0.1,
  patience: 1,
  evalEvery: 1,
  quiet: true,
  standardize: true,
  force,
});

describe('the output rule, command by command (exit 2, nothing changes)', () => {
  it('sample never writes over a run\'s files, nor into another run', async () => {
    for (const f of ['checkpoint.safetensors', 'config.json', 'history.json']) {
      await refused(() => sampleCommand(runs, 'mine', { k: 1, count: 1, seed: 0, output: join(run, f) }), EXIT.badInput, new RegExp(`is the run's own ${f.replace('.', '\\.')}`));
      // --force does not open a run's files.
      await refused(() => sampleCommand(runs, 'mine', { k: 1, count: 1, seed: 0, output: join(run, f), force: true }), EXIT.badInput, /own/);
    }
    await refused(() => sampleCommand(runs, 'mine', { k: 1, count: 1, seed: 0, output: join(other, 'grid.png') }), EXIT.badInput, /is inside a run/);
    await refused(() => sampleCommand(runs, 'mine', { k: 1, count: 1, seed: 0, output: userFile }), EXIT.badInput, /exists and is not an earlier output of this command.*--force/);
  });

  it('fit refuses a run, an earlier fit (without --force) and a folder of other files', async () => {
    await refused(() => fitCommand(fitOptions(run)), EXIT.badInput, /holds a run/);
    await refused(() => fitCommand(fitOptions(run, true)), EXIT.badInput, /holds a run/);
    await refused(() => fitCommand(fitOptions(fitDir)), EXIT.badInput, /holds an earlier fit folder.*--force/);
    await refused(() => fitCommand(fitOptions(torch, true)), EXIT.badInput, /holds a PyTorch export/);
    await refused(() => fitCommand(fitOptions(join(run, 'fit'))), EXIT.badInput, /is inside a run/);
    await refused(() => fitCommand(fitOptions(userFile)), EXIT.badInput, /is a file; this command writes a folder/);
  });

  it('export (every format) refuses a file of the user\'s, a run\'s checkpoint and another command\'s folder', async () => {
    await refused(() => exportCommand(runs, 'mine', userFile), EXIT.badInput, /exists and is not an earlier output/);
    await refused(() => exportCommand(runs, 'mine', userFile, { format: 'onnx' }), EXIT.badInput, /exists and is not an earlier output/);
    await refused(() => exportCommand(runs, 'mine', join(run, 'checkpoint.safetensors'), { force: true }), EXIT.badInput, /is the run's own checkpoint/);
    await refused(() => exportCommand(runs, 'mine', join(fitDir, 'x.onnx'), { format: 'onnx' }), EXIT.badInput, /is inside a fit folder/);
    await refused(() => exportDistributionCommand(join(fitDir, 'model.safetensors'), userFile), EXIT.badInput, /exists and is not an earlier output/);
    // The fit folder the model comes from takes new files, not over its own.
    await refused(() => exportDistributionCommand(join(fitDir, 'model.safetensors'), join(fitDir, 'report.md'), 'sample', true), EXIT.badInput, /is the fit folder's own report\.md/);
    await refused(() => exportPyTorchCommand(runs, 'mine', torch), EXIT.badInput, /holds an earlier PyTorch export.*--force/);
    await refused(() => exportPyTorchCommand(runs, 'mine', fitDir, true), EXIT.badInput, /holds a fit folder/);
  });

  it('import never makes a run over another or inside one; report never replaces a file of the user\'s', async () => {
    await refused(() => importCommand(join(run, 'nested'), 'x', join(other, 'checkpoint.safetensors'), join(other, 'config.json')), EXIT.badInput, /is inside a run/);
    await refused(() => importCommand(tmp, 'fit-output', join(other, 'checkpoint.safetensors'), join(other, 'config.json')), EXIT.badInput, /holds a fit folder/);
    await refused(() => reportCommand(runs, ['mine'], userFile), EXIT.badInput, /exists and is not an earlier output/);
    const twin = put(join(tmp, 'r.json'), '{"mine": true}');
    const message = await refused(() => reportCommand(runs, ['mine'], join(tmp, 'r.md')), EXIT.badInput, /r\.json' \(beside --output/);
    expect(message).toContain('--force');
    rmSync(twin);
  });

  it('a path that cannot hold files is refused at once with exit 3, under /proc without hanging', async () => {
    const started = Date.now();
    await refused(() => fitCommand(fitOptions('/proc/x')), EXIT.couldNotRun, /proc pseudo-filesystem/);
    await refused(() => sampleCommand(runs, 'mine', { k: 1, count: 1, seed: 0, output: '/proc/x/s.png' }), EXIT.couldNotRun, /proc pseudo-filesystem/);
    await refused(() => exportCommand(runs, 'mine', '/sys/x.onnx', { format: 'onnx' }), EXIT.couldNotRun, /sysfs pseudo-filesystem/);
    expect(Date.now() - started).toBeLessThan(10_000);
    // A part of the path is a file: bad input.
    await refused(() => sampleCommand(runs, 'mine', { k: 1, count: 1, seed: 0, output: join(userFile, 'x.png') }), EXIT.badInput, /which is a file, not a folder/);
  });
});

describe('paths are compared after resolving ., .. and symbolic links', () => {
  const alias = join(tmp, 'alias-of-mine');
  symlinkSync(run, alias);
  const checkpointSpellings = fc
    .tuple(fc.constantFrom(run, alias, join(runs, '.', 'mine'), join(runs, 'other', '..', 'mine')), fc.constantFrom('', './', 'sub/../'), fc.boolean())
    .map(([dir, detour, relativeToCwd]) => {
      const p = `${dir}/${detour}checkpoint.safetensors`;
      return relativeToCwd ? relative(process.cwd(), p) : p;
    });
  it("every spelling of a run's checkpoint is refused, for every file kind, with or without --force", () => {
    fc.assert(
      fc.property(checkpointSpellings, fc.constantFrom('sample grid' as const, 'model file' as const, 'ONNX graph' as const, 'report' as const), fc.boolean(), (path, kind, force) => {
        expect(realPath(path)).toBe(realPath(join(run, 'checkpoint.safetensors')));
        expect(() => checkOutput({ command: 'x', option: '--output', path, kind, force, source: run })).toThrow(/is the run's own checkpoint\.safetensors/);
      }),
    );
  });

  it('a symbolic link into another run is another run', () => {
    expect(() => checkOutput({ command: 'sample', option: '--output', path: join(alias, 'grid.png'), kind: 'sample grid', source: other })).toThrow(/is inside a run/);
    expect(() => checkOutput({ command: 'sample', option: '--output', path: join(alias, 'grid.png'), kind: 'sample grid', source: run })).not.toThrow();
  });
});

describe('what a command may replace', () => {
  it('its own earlier output of the same kind, recognised by content, not by name', async () => {
    const { encodeImageGrid } = await import('../../src/node/png.js');
    const tf = await import('@tensorflow/tfjs');
    const image = tf.zeros([1, 2, 2, 1]) as import('@tensorflow/tfjs').Tensor4D;
    const grid = put(join(tmp, 'grid.png'), encodeImageGrid([image]));
    image.dispose();
    expect(() => checkOutput({ command: 'sample', option: '--output', path: grid, kind: 'sample grid' })).not.toThrow();
    // The same bytes are not a model file or an ONNX graph.
    expect(() => checkOutput({ command: 'export', option: '--output', path: grid, kind: 'ONNX graph' })).toThrow(/holds a sample grid, not an ONNX graph/);
    const report = put(join(tmp, 'old.md'), `# typed-flows report\n\n${REPORT_MARKER}\n`);
    expect(() => checkOutput({ command: 'report', option: '--output', path: report, kind: 'report', twin: join(tmp, 'old.json') })).not.toThrow();
    // A markdown file of the user's with the same name pattern is not a report.
    const notes = put(join(tmp, 'notes.md'), '# typed-flows report\n');
    expect(() => checkOutput({ command: 'report', option: '--output', path: notes, kind: 'report' })).toThrow(/not an earlier output/);
    expect(() => checkOutput({ command: 'report', option: '--output', path: notes, kind: 'report', force: true })).not.toThrow();
  });

  it("a figure (PNG and the SVG beside it) replaces only the figure it wrote before; a user's SVG beside it is refused", async () => {
    const { writeFigure, svgBeside } = await import('../../src/node/figure.js');
    const { nllComparisonSpec } = await import('../../src/plots/index.js');
    const png = join(tmp, 'figure.png');
    await writeFigure(png, nllComparisonSpec([{ model: 'flow', nll: 1, standardError: 0.1 }]));
    // The command's own figure, both files: replaceable without --force.
    expect(() => checkOutput({ command: 'sample', option: '--output', path: png, twin: svgBeside(png), kind: 'sample grid' })).not.toThrow();
    // A user's drawing where the SVG would go: refused, and named.
    const mine = join(tmp, 'mine.png');
    put(svgBeside(mine), '<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>');
    expect(() => checkOutput({ command: 'sample', option: '--output', path: mine, twin: svgBeside(mine), kind: 'sample grid' })).toThrow(/mine\.svg.*not an earlier output/);
  });

  it('recognises each command\'s folder by its files', () => {
    expect([run, fitDir, torch, tmp].map(folderKind)).toEqual(['run', 'fit folder', 'PyTorch export', undefined]);
  });
});

describe('through the command line', () => {
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'cpu' }, timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  it('sample --output <the run\'s checkpoint> and fit --output /proc/x exit 2 and 3 with one line', () => {
    const before = snapshot(tmp);
    const s = cli('sample', '--name', 'mine', '--out', runs, '--output', join(run, 'checkpoint.safetensors'));
    expect(s.code, s.err).toBe(2);
    expect(s.err.trim().split('\n')).toHaveLength(1);
    const f = cli('fit', '--flow', 'examples/glow.json', '--data', userFile, '--output', '/proc/x');
    expect(f.code, f.err).toBe(3);
    expect(f.err).toMatch(/^typed-flows: fit: --output '\/proc\/x' is on the proc pseudo-filesystem/);
    expect(snapshot(tmp)).toEqual(before);
  });
});

describe('one limit policy: export --format onnx --k is refused by sample\'s memory estimate', () => {
  it('export --k 1e9 exits 2 naming the memory limit, before writing anything', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { tinyRunConfig } = await import('../support/tiny-run.js');
    const { caflowSpec } = await import('../../src/caflow/model.js');
    const { modelConfigOf } = await import('../../src/cli/model-config.js');
    const { initCaflow } = await import('../../src/caflow/init.js');
    const { encodeCaflowModel } = await import('../../src/caflow/checkpoint.js');
    const { disposeParams } = await import('../../src/dsl/params.js');
    const config = tinyRunConfig(1);
    const m = caflowSpec(modelConfigOf(config));
    const [c, h, w] = modelConfigOf(config).target;
    const [cy] = modelConfigOf(config).condition;
    const { dequantize } = await import('../../src/caflow/quantize.js');
    // 8-bit images dequantised as training sees them (the data-dependent initialisation needs their spread).
    const x = dequantize(tf.floor(tf.randomUniform([4, h, w, c], 0, 256, 'float32', 1)) as import('@tensorflow/tfjs').Tensor4D, 'center');
    const y = dequantize(tf.floor(tf.randomUniform([4, h, w, cy], 0, 256, 'float32', 2)) as import('@tensorflow/tfjs').Tensor4D, 'center');
    const params = initCaflow(m, { seed: 0, w: x, y });
    const root = join(tmp, 'limit-runs');
    put(join(root, 'tiny', 'config.json'), JSON.stringify(config));
    put(join(root, 'tiny', 'checkpoint.safetensors'), await encodeCaflowModel({ model: m, params, step: 1, config }));
    disposeParams(params);
    tf.dispose([x, y]);
    const message = await refused(() => exportCommand(root, 'tiny', join(tmp, 'huge.onnx'), { format: 'onnx', k: 1e9 }), EXIT.badInput, /export --format onnx --direction sample: 1 conditions x 1\.00e9 samples needs about .* of memory; the limit is/);
    expect(message).toContain('--k');
  });
});

describe('messages name what the user gave', () => {
  it('a failed write names the target, not the temporary file of the atomic write', () => {
    const e = Object.assign(new Error('ENOENT'), { code: 'ENOENT', syscall: 'open', path: '/no/such/dir/.model.onnx.4242.0123456789ab.tmp' });
    expect(describeError(e).message).toBe("typed-flows: cannot write '/no/such/dir/model.onnx': the directory '/no/such/dir' does not exist; create it first or choose another path.");
  });

  it('a safetensors header length past 2^53 is printed exactly', async () => {
    const { decodeSafetensors } = await import('../../src/io/safetensors.js');
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 60n + 1n, true);
    expect(() => decodeSafetensors(bytes)).toThrow(/header length 1152921504606846977 exceeds/);
  });

  it('import of a directory as --checkpoint says so', async () => {
    await refused(() => importCommand(runs, 'new', run), EXIT.badInput, /--checkpoint '.*mine' is a directory; pass the checkpoint file in it/);
  });
});
