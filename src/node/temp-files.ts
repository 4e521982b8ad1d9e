/**
 * Temporary files of atomic writes (Node only): `.<target name>.<pid>.<12 hex>.tmp` beside the target.
 * A process killed between writing one and renaming it (kill -9, power loss) leaves it behind;
 * {@link removeStaleTemporaries} removes those whose process is gone, so they do not pile up.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A fresh temporary path beside `target`, naming this process. */
export const temporaryPath = (target: string): string =>
  join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);

const CURRENT = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;
/** Names written by earlier versions: `.<name>.<12 hex>.tmp` (checkpoints) and `<name>.json.<pid>.tmp`. */
const LEGACY_HEX = /^\..+\.[0-9a-f]{12}\.tmp$/;
const LEGACY_PID = /^.+\.json\.(\d+)\.tmp$/;

/** Whether process `pid` may still be running (and writing its temporary file). */
const alive = (pid: number): boolean => {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The pid that owns a temporary file name, null for a name without one, undefined when it is not a temporary file. */
const ownerOf = (name: string): number | null | undefined => {
  const current = CURRENT.exec(name) ?? LEGACY_PID.exec(name);
  if (current !== null) return Number(current[1]);
  return LEGACY_HEX.test(name) ? null : undefined;
};

/** What `removeStaleTemporaries` removed: the files' paths and their total size in bytes. */
export interface RemovedTemporaries {
  readonly files: readonly string[];
  readonly bytes: number;
}

/**
 * Removes the temporary files in `dir` left by processes that are no longer running (and those of
 * earlier versions, which carry no pid). Files of live processes are kept. A missing `dir` is fine.
 */
export const removeStaleTemporaries = async (dir: string): Promise<RemovedTemporaries> => {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { files: [], bytes: 0 };
  }
  const files: string[] = [];
  let bytes = 0;
  for (const name of names) {
    const owner = ownerOf(name);
    if (owner === undefined || (owner !== null && alive(owner))) continue;
    const path = join(dir, name);
    try {
      const s = await stat(path);
      if (!s.isFile()) continue;
      await rm(path, { force: true });
      files.push(path);
      bytes += s.size;
    } catch {
      // Gone already (another process cleaned it): nothing to do.
    }
  }
  return { files, bytes };
};
