/**
 * Every hint a command prints is runnable as printed (issue 23): the words are quoted for a POSIX shell,
 * paths are joined without a doubled slash, `--out` is carried, and torchrun gets the flags Debian's
 * torch 1.13 needs. The end-to-end test runs the printed hints of `export --format pytorch` and
 * `import` with bash, from a folder whose name has a space: torchrun (when /usr/bin/python3 has torch),
 * then import, then eval.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cliHint, pytorchExportHints, shellCommand, TORCHRUN_ARGS } from '../../src/cli/hints.js';
import { tinyRunConfig } from '../support/tiny-run.js';

const bash = (line: string, cwd?: string, env: NodeJS.ProcessEnv = process.env) => spawnSync('bash', ['-c', line], { encoding: 'utf8', cwd, env, timeout: 240_000 });

describe('hints as shell words', () => {
  it('a word comes back from bash as it was, whatever it holds', () => {
    // Generated words with every character a shell treats specially; one bash run checks them all.
    const word = fc.string({ unit: fc.constantFrom('a', ' ', "'", '"', '$', '`', '\\', '/', '-', '*', ';', '&', '(', '~', '!', 'é'), minLength: 1, maxLength: 8 });
    const cases = fc.sample(fc.array(word, { minLength: 1, maxLength: 3 }), { numRuns: 60, seed: 23 });
    const r = bash(cases.map((words) => `${shellCommand('printf', '%s\\0', ...words)}; printf '\\n'`).join('\n'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').slice(0, -1).map((line) => line.split('\0').slice(0, -1))).toEqual(cases);
  });

  it('joins paths without a doubled slash and carries --out when it is not the default', () => {
    const [torchrun, importLine] = pytorchExportHints('sr torch/', 'mine', 'my runs');
    expect(torchrun).toBe(`(cd 'sr torch/' && torchrun ${TORCHRUN_ARGS.join(' ')} train.py)`);
    expect(importLine).toBe("typed-flows import --checkpoint 'sr torch/checkpoint.safetensors' --name mine-torch --out 'my runs'");
    expect(cliHint(['eval', '--name', 'x'])).toBe('typed-flows eval --name x');
  });
});

const tmp = mkdtempSync(join(tmpdir(), 'typed-flows hints '));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cliPath = join(process.cwd(), 'bin', 'typed-flows.js');
/** Runs a printed `typed-flows ...` hint with this checkout's CLI. */
const runHint = (hint: string) => bash(hint.replace(/^typed-flows /, `node ${shellCommand(cliPath)} `), tmp, { ...process.env, TYPED_FLOWS_BACKEND: 'cpu' });
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

describe('the printed hints of export --format pytorch and import, run as printed', () => {
  it('torchrun (when torch is here), import and eval all exit 0', () => {
    writeFileSync(join(tmp, 'tiny.json'), JSON.stringify({ ...tinyRunConfig(1), data: { source: 'mnist', limit: 48 }, eval: { conditions: 2, samples: 2, temperature: 0.5, nllDraws: 1 } }));
    const train = runHint(`typed-flows train --config tiny.json --out 'my runs' --quiet`);
    expect(train.status, train.stderr).toBe(0);
    const exported = runHint(`typed-flows export --name tiny --out 'my runs' --format pytorch --output 'sr torch/' --quiet`);
    expect(exported.status, exported.stderr).toBe(0);
    // --quiet: no progress lines.
    expect(exported.stderr).not.toMatch(/^export \[/m);
    const hints = exported.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
    expect(hints).toHaveLength(2);
    expect(hints.join('\n')).not.toMatch(/\/\//);
    const [torchrun, importLine] = hints as [string, string];
    expect(torchrun).toContain('--redirects 1 --tee 1');
    if (hasTorch) {
      const t = bash(torchrun.replace(/\btorchrun\b/, '/usr/bin/torchrun'), tmp);
      expect(t.status, t.stderr.slice(-2000)).toBe(0);
    } else {
      console.log('hints: torchrun hint not run: /usr/bin/python3 has no torch');
    }
    const imported = runHint(importLine);
    expect(imported.status, imported.stderr).toBe(0);
    // Without --quiet: its stages on stderr, the result alone on stdout.
    expect(imported.stderr).toMatch(/^import \[\d+\.\d s\]: reading .*\nimport \[\d+\.\d s\]: checking its [\d.]+ MB tensor by tensor/m);
    expect(imported.stdout).not.toMatch(/^import \[/m);
    const next = /next: (typed-flows .*)$/m.exec(imported.stdout)?.[1];
    expect(next).toBe("typed-flows eval --name tiny-torch --out 'my runs'");
    const evaluated = runHint(`${next as string} --quiet`);
    expect(evaluated.status, evaluated.stderr).toBe(0);
    expect(evaluated.stderr).not.toMatch(/^eval \[/m);
    // Both NLLs, each under its own name.
    expect(evaluated.stdout).toMatch(/NLL bound [\d.]+ ± [\d.]+ bits\/dim \(uniform dequantisation\), mid-bin NLL [\d.]+ bits\/dim \(u = 0\.5, not a bound\)/);
  }, 300_000);
});
