/** The CLI's error mapping (src/cli/errors.ts): one short message per error and the documented exit codes. */
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { BackendError } from '../../src/backend/select.js';
import { ChildExitError, describeError, EXIT, firstProblems, shortenJsonPath, shortenPath, shortenPaths } from '../../src/cli/errors.js';
import { UsageError } from '../../src/cli/io.js';
import { CheckpointError } from '../../src/io/safetensors.js';

const errno = (code: string, syscall: string, path: string, dest?: string): NodeJS.ErrnoException => {
  const e = new Error(`${code}: ${syscall} '${path}'`) as NodeJS.ErrnoException & { dest?: string };
  e.code = code;
  e.syscall = syscall;
  e.path = path;
  if (dest !== undefined) e.dest = dest;
  return e;
};

describe('describeError', () => {
  it('option errors from commander exit 2 (commander printed them), --help exits 0', () => {
    expect(describeError(new CommanderError(1, 'commander.missingMandatoryOptionValue', "error: required option '--name <name>' not specified"))).toEqual({ code: 2, message: '' });
    expect(describeError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)')).code).toBe(EXIT.ok);
  });

  it('an unknown backend name is bad input (2); an unavailable backend could not run (3); no stack trace', () => {
    const unknown = describeError(new BackendError("typed-flows: unknown backend 'bogus' in TYPED_FLOWS_BACKEND; valid names are: auto, cpu."));
    expect(unknown.code).toBe(2);
    expect(unknown.message).toBe("typed-flows: unknown backend 'bogus' in TYPED_FLOWS_BACKEND; valid names are: auto, cpu.");
    const missing = describeError(new BackendError("typed-flows: backend 'node' is unavailable", [{ name: 'node', error: 'not installed' }]));
    expect(missing.code).toBe(3);
    expect(missing.message).not.toContain('    at ');
  });

  it('file system errors name the user path (the rename destination, not our temporary file)', () => {
    const isDir = describeError(errno('EISDIR', 'rename', '/tmp/x/.out.abc.tmp', '/tmp/x/out'));
    expect(isDir.code).toBe(2);
    expect(isDir.message).toContain("'/tmp/x/out' is a directory");
    expect(isDir.message).not.toContain('.tmp');
    const missingDir = describeError(errno('ENOENT', 'open', '/missing-dir-for-test/r.md'));
    expect(missingDir.code).toBe(2);
    expect(missingDir.message).toContain("the directory '/missing-dir-for-test' does not exist");
    expect(describeError(errno('ENOSPC', 'write', '/tmp/a')).code).toBe(3);
  });

  it('a checkpoint mismatch lists its first problems and how many there are', () => {
    const problems = Array.from({ length: 600 }, (_, i) => `params.${i}.kernel: missing (expected [3,3,4,8])`);
    const r = describeError(new CheckpointError('the checkpoint does not match the expected model', problems));
    expect(r.code).toBe(2);
    const lines = r.message.split('\n');
    expect(lines.length).toBeLessThanOrEqual(10);
    expect(lines[1]).toContain('params.0.kernel');
    expect(r.message).toContain('and 592 more (600 in all)');
  });

  it('long problem lists in usage errors are cut the same way, keeping the closing hint', () => {
    const body = Array.from({ length: 50 }, (_, i) => `  $.steps[${i}]: bad`).join('\n');
    const r = describeError(new UsageError(`'x.json' is not a valid flow spec:\n${body}\nFix the node(s) named above.`));
    expect(r.message.split('\n').length).toBeLessThanOrEqual(12);
    expect(r.message).toContain('and 42 more (50 in all)');
    expect(r.message).toMatch(/Fix the node\(s\) named above\.$/);
  });

  it("a failed child step (demo's train or eval) passes its exit code on", () => {
    expect(describeError(new ChildExitError('demo-caflow: `typed-flows train` exited with 2', 2))).toEqual({ code: 2, message: 'typed-flows: demo-caflow: `typed-flows train` exited with 2' });
    expect(describeError(new ChildExitError('killed', null)).code).toBe(3);
  });

  it('out-of-memory and unexpected errors exit 3 with one line and no stack trace', () => {
    const oom = describeError(new RangeError('Invalid typed array length: 60000000000'));
    expect(oom.code).toBe(3);
    expect(oom.message).toContain('out of memory');
    const bug = describeError(new TypeError('x is undefined'), {});
    expect(bug.code).toBe(3);
    expect(bug.message.split('\n')).toHaveLength(1);
    expect(describeError(new TypeError('x is undefined'), { TYPED_FLOWS_DEBUG: '1' }).message).toContain('at ');
  });
});

describe('shortening', () => {
  const deep = `/tmp/${Array.from({ length: 200 }, (_, i) => `d${i}`).join('/')}/spec.json`;

  it('keeps the start and the end of a long path', () => {
    const s = shortenPath(deep);
    expect(s.length).toBeLessThanOrEqual(80);
    expect(s.startsWith('/tmp/d0/d1/')).toBe(true);
    expect(s.endsWith('/d199/spec.json')).toBe(true);
    expect(s).toContain('…');
    expect(shortenPath('/tmp/a.json')).toBe('/tmp/a.json');
  });

  it('shortens every long path in a message and leaves the words alone', () => {
    const m = shortenPaths(`Spec file '${deep}' does not exist. Pass the path of a JSON spec, e.g. examples/glow.json.`);
    expect(m.length).toBeLessThan(200);
    expect(m).toMatch(/^Spec file '\/tmp\/d0.*….*\/spec\.json' does not exist\. Pass the path of a JSON spec, e\.g\. examples\/glow\.json\.$/);
  });

  it('shortens a long JSON path of a deeply nested spec, keeping its first and last steps and its depth', () => {
    const path = `$${'.steps[0]'.repeat(200)}.kind`;
    const s = shortenJsonPath(path);
    expect(s.length).toBeLessThanOrEqual(100);
    expect(s).toMatch(/^\$\.steps\[0\]\.steps\[0\].*…steps\[0\].*\.kind \(201 levels\)$/);
    expect(shortenJsonPath('$.steps[2].net.hidden')).toBe('$.steps[2].net.hidden');
    expect(shortenPaths(`  ${path}: unknown kind 'actnrom'`)).toBe(`  ${s}: unknown kind 'actnrom'`);
  });

  it('firstProblems keeps short lists whole', () => {
    expect(firstProblems(['a', 'b'])).toEqual(['a', 'b']);
    expect(firstProblems(['a', 'b', 'c'], 2)).toEqual(['a', 'b', '... and 1 more (3 in all)']);
  });
});
