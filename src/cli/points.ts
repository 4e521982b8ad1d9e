/**
 * Rows of numbers for `typed-flows fit`, from CSV or JSON, with errors that name the line.
 *
 * CSV: one row per line, fields separated by commas (spaces around them are ignored); blank lines
 * and lines starting with '#' are skipped; the first row may be a header (any field not a number).
 * JSON: an array of rows, each an array of numbers (`[[0.1, 2], [0.3, -1], ...]`).
 * Every row must have the same number of finite numbers, each within float32's range (the tensors' precision).
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from './io.js';
import { fitsFloat32, OUTSIDE_FLOAT32 } from './float32.js';
import { stat } from 'node:fs/promises';

export interface Points {
  /** Row-major values, rows x width. */
  readonly values: Float32Array;
  readonly rows: number;
  readonly width: number;
  /** Column names from a CSV header, if there was one. */
  readonly columns: readonly string[] | undefined;
}

const show = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);

const parseNumber = (field: string): number | undefined => {
  const t = field.trim();
  if (t === '') return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
};

/** Parses CSV text; `name` is used in messages (`points.csv:7: ...`). */
export const parseCsvPoints = (text: string, name: string): Points => {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: number[] = [];
  let width: number | undefined;
  let columns: string[] | undefined;
  let rows = 0;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(',');
    const nums = fields.map(parseNumber);
    const at = `${name}:${i + 1}`;
    if (rows === 0 && columns === undefined && nums.some((v) => v === undefined) && fields.every((f) => parseNumber(f) === undefined)) {
      columns = fields.map((f) => f.trim());
      width = fields.length;
      return;
    }
    if (width !== undefined && fields.length !== width) {
      throw new UsageError(`${at}: expected ${width} comma-separated numbers (as in the ${columns === undefined ? 'first row' : 'header'}), got ${fields.length} fields: ${show(line)}`);
    }
    const bad = nums.findIndex((v) => v === undefined);
    if (bad >= 0) throw new UsageError(`${at}: field ${bad + 1} (${show((fields[bad] ?? '').trim())}) is not a finite number`);
    const huge = nums.findIndex((v) => !fitsFloat32(v as number));
    if (huge >= 0) throw new UsageError(`${at}: field ${huge + 1}${columns?.[huge] === undefined ? '' : ` (column ${show(columns[huge] as string)})`}, ${(fields[huge] ?? '').trim()}, is ${OUTSIDE_FLOAT32}; rescale the data.`);
    width = fields.length;
    for (const v of nums) out.push(v as number);
    rows += 1;
  });
  if (rows === 0 || width === undefined) throw new UsageError(`${name}: no rows of numbers found`);
  return { values: Float32Array.from(out), rows, width, columns };
};

/** The 1-based line on which each element of the top-level JSON array starts. */
const elementLines = (text: string): number[] => {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\n') line += 1;
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
      continue;
    }
    if (expectElement && depth === 1 && !/\s/.test(c) && c !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth += 1;
      if (depth === 1) expectElement = true;
    } else if (c === ']' || c === '}') depth -= 1;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return lines;
};

/** Parses a JSON array of rows; messages give the line on which the bad row starts. */
export const parseJsonPoints = (text: string, name: string): Points => {
  const clean = text.replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(clean);
  } catch (e) {
    throw new UsageError(`${name}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!Array.isArray(json)) throw new UsageError(`${name}: expected a JSON array of rows, e.g. [[0.1, 2], [0.3, -1]]`);
  if (json.length === 0) throw new UsageError(`${name}: no rows`);
  const starts = elementLines(clean);
  const width = Array.isArray(json[0]) ? json[0].length : 0;
  const out = new Float32Array(json.length * width);
  json.forEach((row: unknown, r) => {
    const at = `${name}:${starts[r] ?? '?'} (row ${r + 1})`;
    if (!Array.isArray(row)) throw new UsageError(`${at}: expected an array of numbers, got ${show(JSON.stringify(row) ?? String(row))}`);
    if (row.length !== width || width === 0) throw new UsageError(`${at}: expected ${width || 'a non-empty list of'} numbers (as in the first row), got ${row.length}`);
    row.forEach((v: unknown, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsageError(`${at}: entry ${j + 1} (${show(JSON.stringify(v) ?? String(v))}) is not a finite number`);
      if (!fitsFloat32(v)) throw new UsageError(`${at}: entry ${j + 1}, ${v}, is ${OUTSIDE_FLOAT32}; rescale the data.`);
      out[r * width + j] = v;
    });
  });
  return { values: out, rows: json.length, width, columns: undefined };
};

/** The largest data file fit reads (bytes): V8 strings hold up to 2^29 - 24 characters. */
export const MAX_DATA_BYTES = 500e6;

/** Reads a .json file as JSON and anything else as CSV. */
export const readPointsFile = async (file: string): Promise<Points> => {
  let text: string;
  try {
    // Past this size the text does not fit one JavaScript string ("Invalid string length").
    const { size } = await stat(file);
    if (size > MAX_DATA_BYTES) throw new UsageError(`Data file '${file}' is ${(size / 1e6).toFixed(0)} MB; fit reads data files up to ${MAX_DATA_BYTES / 1e6} MB. Pass a sample of the rows.`);
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `Data file '${file}' does not exist. Pass a CSV or JSON file of rows of numbers.` : `Cannot read data file '${file}': ${(e as Error).message}`);
  }
  return /\.json$/i.test(file) ? parseJsonPoints(text, file) : parseCsvPoints(text, file);
};
