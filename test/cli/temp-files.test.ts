/** Temporary files of atomic writes: named after their process, removed once that process is gone. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStaleTemporaries, temporaryPath } from '../../src/node/temp-files.js';

const dir = mkdtempSync(join(tmpdir(), 'typed-flows-temp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('temporary files', () => {
  it('are named .<target>.<pid>.<random>.tmp beside the target', () => {
    const p = temporaryPath(join(dir, 'checkpoint.safetensors'));
    expect(p.startsWith(join(dir, `.checkpoint.safetensors.${process.pid}.`))).toBe(true);
    expect(basename(p)).toMatch(/^\.checkpoint\.safetensors\.\d+\.[0-9a-f]{12}\.tmp$/);
  });

  it("removes those of exited processes and of earlier versions, keeps live processes' and other files", async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
    const stale = [`.checkpoint.safetensors.${dead}.00112233aabb.tmp`, '.checkpoint.safetensors.00112233aabb.tmp', `history.json.${dead}.tmp`];
    const kept = [`.metrics.json.${process.pid}.00112233aabb.tmp`, 'checkpoint.safetensors', 'notes.tmp', 'history.json'];
    for (const f of [...stale, ...kept]) writeFileSync(join(dir, f), '12345');
    const r = await removeStaleTemporaries(dir);
    expect(r.files.map((f) => basename(f)).sort()).toEqual([...stale].sort());
    expect(r.bytes).toBe(15);
    expect(readdirSync(dir).sort()).toEqual([...kept].sort());
    expect(await removeStaleTemporaries(join(dir, 'missing'))).toEqual({ files: [], bytes: 0 });
  });
});
