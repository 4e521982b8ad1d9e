/**
 * Checkpoint files on disk (Node only). Writes are atomic: the bytes go to a temporary file in the
 * target's directory, which is fsynced and then renamed over the target, so a reader sees either the
 * old file or the complete new one, never a half-written file; on failure the temporary file is removed.
 * A process killed mid-write leaves its temporary file behind: removeStaleTemporaries (temp-files.ts) cleans those.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { temporaryPath } from './temp-files.js';
import { CheckpointError, decodeCheckpoint, type Checkpoint, type ExpectedCheckpoint } from '../io/checkpoint.js';

/** What can be written: the bytes, or chunks of them (e.g. produced while writing). */
export type CheckpointBytes = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

const errorCode = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string' ? (e as { code: string }).code : undefined;

/** Best-effort fsync of a directory so the rename itself is durable (not possible on every platform). */
const syncDirectory = async (dir: string): Promise<void> => {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot open directories; durability of the rename is then up to the OS.
  }
};

/**
 * Writes `bytes` to `path` atomically (temp file in the same directory, fsync, rename). The previous
 * file at `path`, if any, is left untouched when anything fails, and the temp file is removed.
 */
export const writeCheckpointFile = async (path: string, bytes: CheckpointBytes): Promise<void> => {
  const target = resolve(path);
  const dir = dirname(target);
  const temp = temporaryPath(target);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temp, 'wx', 0o644);
    const chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array> = bytes instanceof Uint8Array ? [bytes] : bytes;
    for await (const chunk of chunks) await handle.write(chunk);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dir);
};

/**
 * Reads and decodes a checkpoint file (see decodeCheckpoint for `expected`). A missing or unreadable
 * file, or one that is not a typed-flows checkpoint, gives a CheckpointError naming the path.
 */
export const readCheckpointFile = async (path: string, expected?: ExpectedCheckpoint): Promise<Checkpoint> => {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = errorCode(e);
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : e instanceof Error ? e.message : String(e);
    throw new CheckpointError(`cannot read checkpoint ${path}: ${reason}`, [], { cause: e });
  }
  try {
    return decodeCheckpoint(bytes, expected);
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(`${path}: ${e.summary}`, e.problems, { cause: e });
    throw e;
  }
};
