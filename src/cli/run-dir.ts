/**
 * A run's directory: runs/<name>/ holding config.json, checkpoint.safetensors (atomic), history.json,
 * metrics.json, samples-*.png and report.md.
 */
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { decodeRunConfig, type RunConfig } from '../experiments/config.js';
import { UsageError } from './io.js';

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

export const runDir = (root: string, name: string): RunDir => {
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
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
};

export const readJson = async (file: string, what: string): Promise<unknown> => {
  if (!existsSync(file)) throw new UsageError(`${what} '${file}' does not exist.`);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (e) {
    throw new UsageError(`${what} '${file}' is not valid JSON: ${(e as Error).message}`);
  }
};

/** A config from a file, with every problem listed and what to fix. */
export const readRunConfig = async (file: string): Promise<RunConfig> => {
  const decoded = decodeRunConfig(await readJson(file, 'Config file'));
  if (E.isLeft(decoded)) {
    throw new UsageError(
      `Config '${file}' is not valid:\n${decoded.left.map((m) => `  ${m}`).join('\n')}\nFix these fields (see \`typed-flows train --help\` and the presets in src/experiments/config.ts).`,
    );
  }
  return decoded.right;
};
