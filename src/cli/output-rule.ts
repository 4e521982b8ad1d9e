/**
 * The one output rule of the command line. A command writes a path only when
 * - the path is not one of a run's own files (config.json, checkpoint.safetensors, history.json, ...),
 *   and not inside another run, nor inside another command's output folder (a fit, a PyTorch export, the demo);
 * - whatever is there already is the command's own earlier output of the same kind (a sample grid over
 *   a sample grid, an ONNX graph over an ONNX graph...), or `--force` is given. Outputs that hold
 *   trained state (a fit's folder, a PyTorch export, whose train.py may have trained it further) are
 *   replaced only with `--force`; a run, a checkpoint or a fitted model file never is.
 * Paths are compared after resolving `.`, `..` and symbolic links (the real path of the longest
 * existing prefix). The place must also be able to hold files: a pseudo-filesystem (/proc, /sys) or a
 * read-only one is refused at once (exit 3), before anything is computed or any folder is made
 * (a recursive mkdir under /proc never returns).
 *
 * What is already there is recognised by its content (the safetensors metadata, the ONNX producer, a
 * PNG text chunk, a report's marker line), never by its name alone.
 */
import { closeSync, constants, accessSync, existsSync, openSync, readSync, readdirSync, realpathSync, statSync, statfsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CHECKPOINT_FORMAT } from '../io/checkpoint.js';
import { PNG_SOFTWARE } from '../node/png.js';
import { CouldNotRunError, UsageError } from './io.js';

/** What a command writes. */
export type OutputKind = 'sample grid' | 'table' | 'model file' | 'ONNX graph' | 'report' | 'fit folder' | 'PyTorch export' | 'PyTorch distribution' | 'run' | 'demo folder';

/** What a path holds already. */
type Found =
  | { readonly is: 'nothing' }
  | { readonly is: 'empty folder' }
  | { readonly is: 'folder'; readonly kind?: OutputKind }
  | { readonly is: 'file'; readonly kind?: OutputKind | 'checkpoint' | 'fitted model' | 'report data' | 'figure SVG' };

/** Each output folder's own files: only the command that made the folder writes them (for a run: train, eval and import). */
export const OWN_FILES: { readonly [k in OutputKind]: readonly string[] } = {
  run: ['config.json', 'checkpoint.safetensors', 'history.json', 'train-summary.json', 'metrics.json'],
  'fit folder': ['model.safetensors', 'history.json', 'report.md', 'density.png', 'density.svg', 'baselines.png', 'baselines.svg'],
  'PyTorch export': ['model.py', 'train.py', 'config.json', 'checkpoint.safetensors', 'data.safetensors', 'README.md'],
  'PyTorch distribution': ['model.py', 'model.safetensors'],
  'demo folder': ['report.md', 'metrics.json'],
  'sample grid': [],
  table: [],
  'model file': [],
  'ONNX graph': [],
  report: [],
};

/** The first line of every table of numbers a command writes (CSV draws, per-row values); readers skip '#' lines. */
export const TABLE_MARKER = '# written by typed-flows';

/** The last line of every report `typed-flows report` writes: how a later report knows it may replace it. */
export const REPORT_MARKER = '<!-- written by typed-flows report -->';

/** Outputs that hold trained state: replaced only with --force. */
const PRECIOUS: ReadonlySet<OutputKind> = new Set(['fit folder', 'PyTorch export']);

/** `/a/./b/../c` with symbolic links resolved as far as the path exists; the rest is appended as written. */
export const realPath = (path: string): string => {
  const rest: string[] = [];
  let p = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(p), ...rest.reverse());
    } catch {
      const parent = dirname(p);
      if (parent === p) return resolve(path);
      rest.push(basename(p));
      p = parent;
    }
  }
};

const has = (dir: string, name: string): boolean => existsSync(join(dir, name));

/** The command output a folder is, by the files in it. */
export const folderKind = (dir: string): OutputKind | undefined => {
  if (has(dir, 'train.py') && has(dir, 'model.py') && has(dir, 'checkpoint.safetensors')) return 'PyTorch export';
  if (has(dir, 'config.json') && (has(dir, 'checkpoint.safetensors') || has(dir, 'history.json'))) return 'run';
  if (has(dir, 'model.safetensors') && has(dir, 'history.json') && has(dir, 'report.md')) return 'fit folder';
  if (has(dir, 'model.py') && has(dir, 'model.safetensors')) return 'PyTorch distribution';
  if (has(dir, 'report.md') && has(dir, 'metrics.json') && readdirSync(dir).some((f) => f.endsWith('.config.json'))) return 'demo folder';
  return undefined;
};

/** The first `n` bytes of a file (fewer when it is shorter). */
const head = (file: string, n: number, at = 0): Buffer => {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(n);
    return b.subarray(0, readSync(fd, b, 0, n, at));
  } finally {
    closeSync(fd);
  }
};

/** A typed-flows safetensors file: a checkpoint (optimizer state), a CAFLOW model file or a fitted distribution. */
const safetensorsKind = (file: string): 'checkpoint' | 'model file' | 'fitted model' | undefined => {
  const prefix = head(file, 8);
  if (prefix.length < 8) return undefined;
  const length = prefix.readBigUInt64LE(0);
  if (length > 50_000_000n) return undefined;
  try {
    const header = JSON.parse(head(file, Number(length), 8).toString('utf8')) as Record<string, unknown>;
    const meta = header['__metadata__'] as Record<string, string> | undefined;
    if (meta?.['format'] !== CHECKPOINT_FORMAT) return undefined;
    if (Object.keys(header).some((k) => k.startsWith('optimizer.'))) return 'checkpoint';
    return (JSON.parse(meta['spec'] ?? '{}') as { kind?: unknown }).kind === 'caflow' ? 'model file' : 'fitted model';
  } catch {
    return undefined;
  }
};

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What command output a file is, by its content. */
const fileKind = (file: string): (OutputKind | 'checkpoint' | 'fitted model' | 'report data' | 'figure SVG') | undefined => {
  const start = head(file, 128);
  if (start.subarray(0, 8).equals(PNG_SIGNATURE)) return start.includes(PNG_SOFTWARE) ? 'sample grid' : undefined;
  if (start.subarray(0, TABLE_MARKER.length).toString('latin1') === TABLE_MARKER) return 'table';
  // ONNX: a protobuf ModelProto whose producer_name (field 2) comes right after the IR version.
  if (start[0] === 0x08 && start.subarray(0, 32).includes('typed-flows')) return 'ONNX graph';
  if (start.length >= 8 && start.readBigUInt64LE(0) < 50_000_000n && start[8] === 0x7b) return safetensorsKind(file);
  const size = statSync(file).size;
  if (size > 20_000_000) return undefined;
  const text = head(file, size).toString('utf8');
  if (text.trimEnd().endsWith(REPORT_MARKER)) return 'report';
  // The SVG written beside every figure (src/node/figure.ts): Vega's marks.
  if (text.startsWith('<svg') && text.includes('class="marks"')) return 'figure SVG';
  try {
    const json = JSON.parse(text) as unknown;
    if (Array.isArray(json) && json.length > 0 && json.every((m) => typeof m === 'object' && m !== null && 'bitsPerDim' in m)) return 'report data';
  } catch {
    // Not JSON: a file of the user's.
  }
  return undefined;
};

const found = (real: string): Found => {
  if (!existsSync(real)) return { is: 'nothing' };
  if (statSync(real).isDirectory()) {
    if (readdirSync(real).length === 0) return { is: 'empty folder' };
    const kind = folderKind(real);
    return kind === undefined ? { is: 'folder' } : { is: 'folder', kind };
  }
  const kind = fileKind(real);
  return kind === undefined ? { is: 'file' } : { is: 'file', kind };
};

/** A request to write `path`. */
export interface OutputRequest {
  /** The command, for messages ('sample', 'export'...). */
  readonly command: string;
  /** The option that gave the path, for messages ('--output'). */
  readonly option: string;
  readonly path: string;
  readonly kind: OutputKind;
  readonly force?: boolean;
  /** The run or fit folder this command reads: it may write new files into it, not over the folder's own files ({@link OWN_FILES}). */
  readonly source?: string;
  /** A file output that the same command also writes beside `path` (a report's .json twin). */
  readonly twin?: string;
}

const isFolderKind = (k: OutputKind): boolean => k === 'fit folder' || k === 'PyTorch export' || k === 'PyTorch distribution' || k === 'run' || k === 'demo folder';

/** Pseudo-filesystems (statfs f_type) that cannot hold a command's files. */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x1cd1, 'devpts'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0x62656570, 'configfs'],
]);

/** The deepest existing folder on the way to `real` (the path itself when it is a folder). */
const existingFolder = (real: string): string => {
  let p = real;
  while (!existsSync(p)) p = dirname(p);
  return p;
};

/**
 * Refuses (exit 3) a place that cannot hold files: a pseudo-filesystem or a folder this process cannot
 * write; exit 2 when a part of the path is a file. Checked on the deepest existing folder, so nothing
 * is created to find out.
 */
export const checkWritablePlace = (command: string, option: string, path: string, real = realPath(path)): void => {
  const at = existingFolder(dirname(real));
  if (!statSync(at).isDirectory()) throw new UsageError(`${command}: ${option} '${path}' goes through '${at}', which is a file, not a folder; choose another path.`);
  let type: number | undefined;
  try {
    type = statfsSync(at).type;
  } catch {
    type = undefined;
  }
  const pseudo = type === undefined ? undefined : PSEUDO_FILESYSTEMS.get(type);
  if (pseudo !== undefined) throw new CouldNotRunError(`${command}: ${option} '${path}' is on the ${pseudo} pseudo-filesystem ('${at}'), which cannot hold files; choose a path on a disk.`);
  try {
    accessSync(at, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EACCES';
    const why = code === 'EROFS' ? 'is on a read-only filesystem' : 'is not writable by this user';
    throw new CouldNotRunError(`${command}: ${option} '${path}' cannot be written: '${at}' ${why} (${code}); choose another path.`);
  }
};

const article = (k: string): string => (/^[aeiouAEIO]/.test(k) ? `an ${k}` : `a ${k}`);

/** Refuses anything the rule forbids (exit 2), or a place that cannot hold files (exit 3). Call before any work. */
export const checkOutput = (r: OutputRequest): void => {
  const real = realPath(r.path);
  const refuse = (why: string, fix: string, path = r.path): never => {
    const what = path === r.path ? `${r.option} '${path}'` : `'${path}' (beside ${r.option} '${r.path}')`;
    throw new UsageError(`${r.command}: ${what} ${why}; nothing was written. ${fix}`);
  };
  const elsewhere = 'Choose another path.';
  const source = r.source === undefined ? undefined : realPath(r.source);
  // Inside a run or another command's output folder?
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    const kind = existsSync(dir) && statSync(dir).isDirectory() ? folderKind(dir) : undefined;
    if (kind !== undefined && dir !== source) {
      refuse(`is inside ${article(kind)} ('${dir}')`, `A command writes new files only into the run or folder it reads (--name, --model), never into another. ${elsewhere}`);
    }
    if (kind !== undefined && dirname(real) === dir && OWN_FILES[kind].includes(basename(real))) {
      refuse(`is the ${kind}'s own ${basename(real)}`, `No option of any command writes over it (for a run, train, eval and import keep these files). ${elsewhere}`);
    }
    if (dirname(dir) === dir) break;
  }
  checkWritablePlace(r.command, r.option, r.path, real);
  const check = (path: string, real: string, kind: OutputKind): void => {
    const no = (why: string, fix: string): never => refuse(why, fix, path);
    const there = found(real);
    if (there.is === 'nothing') return;
    if (isFolderKind(kind)) {
      if (there.is === 'file') no('is a file; this command writes a folder', elsewhere);
      if (there.is === 'empty folder') return;
      const k = there.is === 'folder' ? there.kind : undefined;
      if (k === kind && kind === 'run') return; // train's own run: train resumes or refuses it itself.
      if (k === kind && kind === 'demo folder') return;
      if (k === kind && r.force === true) return;
      if (k === kind) no(`holds an earlier ${kind} (trained state)`, `Pass --force to replace it, or choose another folder.`);
      if (k !== undefined) no(`holds ${article(k)}`, `A command never writes into another command's output folder. ${elsewhere}`);
      if (r.force === true && kind !== 'run') return;
      no('is a folder holding other files', `Choose a new or empty folder${kind === 'run' ? '' : ', or pass --force to write into it'}.`);
    }
    if (there.is !== 'file') return no('is a directory; this command writes a file', 'Give the path of a file (one inside it, for example).');
    const k = there.kind;
    if (path === r.twin ? k === (kind === 'report' ? 'report data' : 'figure SVG') : k === kind) return;
    if (k === 'checkpoint' || k === 'fitted model') no(`holds ${article(k)} (trained state)`, `No command writes over trained state. ${elsewhere}`);
    if (r.force === true) return;
    no(k === undefined ? 'exists and is not an earlier output of this command' : `holds ${article(k)}, not ${article(kind)}`, `Pass --force to replace it, or choose another path.`);
  };
  check(r.path, real, r.kind);
  if (r.twin !== undefined) {
    if (realPath(r.twin) === real) refuse('and its twin are the same file', elsewhere);
    check(r.twin, realPath(r.twin), r.kind);
  }
};
