/**
 * A run's directory: runs/<name>/ holding config.json, checkpoint.safetensors (atomic), history.json,
 * metrics.json, samples-*.png and report.md.
 */
import { mkdir, readFile, writeFile, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { decodeRunConfig, type RunConfig } from '../experiments/config.js';
import { temporaryPath } from '../node/temp-files.js';
import { stripBom, UsageError } from './user-errors.js';

export interface RunDir {
  readonly path: string;
  readonly config: string;
  readonly checkpoint: string;
  readonly history: string;
  /** Steps, seconds and final loss of the last `train` invocation. */
  readonly summary: string;
  readonly metrics: string;
  readonly report: string;
  readonly grid: (label: string) => string;
}

/**
 * A run name is one directory under the runs folder: not empty, no path separators, not '.' or '..'
 * (an empty name would put the run's files straight into the runs folder).
 */
export const checkRunName = (name: string): void => {
  const problem =
    name.trim() === ''
      ? 'is empty'
      : /[/\\\0]/.test(name)
        ? 'contains a path separator'
        : name === '.' || name === '..'
          ? 'is not a directory name'
          : name.length > 200
            ? 'is longer than 200 characters'
            : undefined;
  if (problem !== undefined) {
    throw new UsageError(`The run name ${JSON.stringify(name)} ${problem}: a run is one directory under --out, so give a plain name such as 'mnist-sr-2'.`);
  }
};

export const runDir = (root: string, name: string): RunDir => {
  checkRunName(name);
  const path = join(root, name);
  return {
    path,
    config: join(path, 'config.json'),
    checkpoint: join(path, 'checkpoint.safetensors'),
    history: join(path, 'history.json'),
    summary: join(path, 'train-summary.json'),
    metrics: join(path, 'metrics.json'),
    report: join(path, 'report.md'),
    grid: (label) => join(path, `samples-${label}.png`),
  };
};

/** Writes JSON atomically (temp file + rename), creating the directory. */
export const writeJson = async (file: string, value: unknown): Promise<void> => {
  await mkdir(join(file, '..'), { recursive: true });
  const tmp = temporaryPath(file);
  try {
    await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
};

export const readJson = async (file: string, what: string): Promise<unknown> => {
  if (!existsSync(file)) throw new UsageError(`${what} '${file}' does not exist.`);
  try {
    return JSON.parse(stripBom(await readFile(file, 'utf8'))) as unknown;
  } catch (e) {
    throw new UsageError(`${what} '${file}' is not valid JSON: ${(e as Error).message}`);
  }
};

/** Keys that would reach an object's prototype if the JSON were merged into an object. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/**
 * Fields of `raw` that the decoded config does not have (io-ts's `strict` drops them silently), and
 * prototype keys anywhere, as `$.train.stpes: unknown field` lines.
 */
export const extraFields = (raw: unknown, decoded: unknown, path = '$', unknownToo = true): string[] => {
  if (Array.isArray(raw)) return raw.flatMap((x, i) => extraFields(x, Array.isArray(decoded) ? decoded[i] : undefined, `${path}[${i}]`, unknownToo));
  if (!isObject(raw)) return [];
  return Object.keys(raw).flatMap((k) => {
    const p = `${path}.${k}`;
    if (FORBIDDEN_KEYS.has(k)) return [`${p}: not allowed (a prototype key)`];
    if (!isObject(decoded) || !Object.hasOwn(decoded, k)) return unknownToo && isObject(decoded) ? [`${p}: unknown field`] : [];
    return extraFields(raw[k], decoded[k], p, unknownToo);
  });
};

/**
 * A config from a file, with every problem listed and what to fix. `strict` (for configs a user
 * hands to train) also refuses fields the config does not have; prototype keys are always refused.
 */
export const readRunConfig = async (file: string, o: { strict?: boolean } = {}): Promise<RunConfig> => {
  const raw = await readJson(file, 'Config file');
  const decoded = decodeRunConfig(raw);
  const problems = E.isLeft(decoded) ? decoded.left : extraFields(raw, decoded.right, '$', o.strict === true).map((m) => m.replace(/^\$\./, ''));
  if (E.isLeft(decoded) || problems.length > 0) {
    throw new UsageError(
      `Config '${file}' is not valid:\n${problems.map((m) => `  ${m}`).join('\n')}\nFix these fields (see \`typed-flows train --help\` and the presets in src/experiments/config.ts).`,
    );
  }
  return decoded.right;
};
