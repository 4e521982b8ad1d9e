/**
 * The safetensors container (https://github.com/huggingface/safetensors), written from the format's
 * description. Browser-safe: no Node imports.
 *
 * Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON header
 * `{"__metadata__": {string: string}, "<name>": {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}, ...}`
 * padded with spaces to a multiple of 8, then the data buffer: every tensor's elements, little-endian,
 * row-major, laid out contiguously with no holes. Offsets are relative to the start of the data buffer.
 *
 * The encoder writes tensors sorted by name (code-point order, as Rust's BTreeMap would) and omits
 * `__metadata__` when it is empty. The decoder validates everything and throws a CheckpointError with a
 * message naming the problem; it never returns views into the input (each tensor is copied into a
 * fresh, aligned typed array), so the input buffer may be reused afterwards.
 */

/** Thrown for anything wrong with a checkpoint file or with what it holds; `problems` lists the details. */
export class CheckpointError extends Error {
  /** The message without the list of problems. */
  readonly summary: string;
  readonly problems: readonly string[];
  constructor(summary: string, problems: readonly string[] = [], options?: { cause?: unknown }) {
    super(problems.length === 0 ? summary : `${summary}:\n${problems.map((p) => `  ${p}`).join('\n')}`, options);
    this.name = 'CheckpointError';
    this.summary = summary;
    this.problems = problems;
  }
}

/** float32, int32 and uint8 (8-bit image data, as in the PyTorch export's data file). */
export type SafeDtype = 'F32' | 'I32' | 'U8';

/** One tensor of a safetensors file: its dtype, shape and data (row-major). */
export interface SafeTensor {
  readonly dtype: SafeDtype;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array | Uint8Array;
}

/** A decoded safetensors file: its tensors by name and its string metadata. */
export interface DecodedSafetensors {
  /** In data-buffer order (the order the tensors are laid out in the file). */
  readonly tensors: Map<string, SafeTensor>;
  readonly metadata: Record<string, string>;
}

/** The reference implementation's limit on the header size. */
export const MAX_HEADER_BYTES = 100_000_000;

const BYTES_PER_ELEMENT: Record<SafeDtype, number> = { F32: 4, I32: 4, U8: 1 };
const ARRAY_OF = { F32: Float32Array, I32: Int32Array, U8: Uint8Array } as const;
const isDtype = (d: unknown): d is SafeDtype => d === 'F32' || d === 'I32' || d === 'U8';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const showName = (name: string): string => JSON.stringify(name);

/** Number of elements of a shape, or undefined when a dimension is invalid or the product is unsafe. */
const elementCount = (shape: readonly unknown[]): number | undefined => {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return undefined;
    n *= d;
  }
  return Number.isSafeInteger(n) ? n : undefined;
};

/** Code-point order of UTF-16 strings (= byte order of their UTF-8 encodings). */
const byCodePoint = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i) as number;
    const cb = b.codePointAt(i) as number;
    if (ca !== cb) return ca - cb;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
};

const writeData = (out: Uint8Array, at: number, data: Float32Array | Int32Array | Uint8Array): void => {
  if (LITTLE_ENDIAN || data instanceof Uint8Array) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + at, data.byteLength);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  else data.forEach((v, i) => view.setInt32(4 * i, v, true));
};

const readData = (bytes: Uint8Array, dtype: SafeDtype, count: number): Float32Array | Int32Array | Uint8Array => {
  // Always a fresh array: the source offset need not be 4-aligned, and callers may reuse `bytes`.
  const out = new ARRAY_OF[dtype](count);
  if (LITTLE_ENDIAN || out instanceof Uint8Array) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) out[i] = dtype === 'F32' ? view.getFloat32(4 * i, true) : view.getInt32(4 * i, true);
  return out;
};

/** Serialises tensors and string metadata to safetensors bytes. Throws a CheckpointError on bad input. */
export const encodeSafetensors = (
  tensors: Iterable<readonly [string, SafeTensor]>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array => {
  const entries = [...tensors];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [name, t] of entries) {
    if (typeof name !== 'string') problems.push(`tensor name ${String(name)} is not a string`);
    else if (name === '__metadata__') problems.push(`"__metadata__" is reserved and cannot name a tensor`);
    else if (seen.has(name)) problems.push(`tensor ${showName(name)} appears twice`);
    seen.add(name);
    if (!isDtype(t.dtype)) {
      problems.push(`tensor ${showName(name)}: unsupported dtype ${JSON.stringify(t.dtype)} (supported: F32, I32, U8)`);
      continue;
    }
    const expectedArray = ARRAY_OF[t.dtype];
    if (!(t.data instanceof expectedArray)) problems.push(`tensor ${showName(name)}: dtype ${t.dtype} needs a ${expectedArray.name}`);
    const n = elementCount(t.shape);
    if (n === undefined) problems.push(`tensor ${showName(name)}: invalid shape ${JSON.stringify(t.shape)}`);
    else if (n !== t.data.length) problems.push(`tensor ${showName(name)}: shape [${t.shape.join(',')}] has ${n} elements but the data has ${t.data.length}`);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') problems.push(`metadata ${showName(k)}: value is a ${typeof v}, not a string`);
  }
  if (problems.length > 0) throw new CheckpointError('cannot encode safetensors', problems);

  entries.sort(([a], [b]) => byCodePoint(a, b));
  // The header is assembled by hand so that names such as "__proto__" stay ordinary keys.
  const parts: string[] = [];
  const meta = Object.entries(metadata);
  if (meta.length > 0) {
    parts.push(`"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const end = offset + t.data.length * BYTES_PER_ELEMENT[t.dtype];
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) throw new CheckpointError(`cannot encode safetensors: the header would be ${headerLength} bytes (limit ${MAX_HEADER_BYTES})`);

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, t] of entries) {
    writeData(out, at, t.data);
    at += t.data.byteLength;
  }
  return out;
};

const isPlainObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

interface Entry {
  readonly name: string;
  readonly dtype: SafeDtype;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/** Parses and validates safetensors bytes. Throws a CheckpointError describing what is wrong. */
export const decodeSafetensors = (bytes: Uint8Array): DecodedSafetensors => {
  if (!(bytes instanceof Uint8Array)) throw new CheckpointError('not a safetensors file: expected bytes (a Uint8Array)');
  if (bytes.length < 8) {
    throw new CheckpointError(`not a safetensors file, or truncated: ${bytes.length} bytes, fewer than the 8-byte header length`);
  }
  const prefix = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const low = prefix.getUint32(0, true);
  const high = prefix.getUint32(4, true);
  const headerLength = high * 2 ** 32 + low;
  if (high !== 0 || headerLength > MAX_HEADER_BYTES) {
    // As a 64-bit integer: a double would round lengths past 2^53 (2^60 + 1 would print as 2^60).
    const exact = prefix.getBigUint64(0, true);
    throw new CheckpointError(`not a safetensors file: header length ${exact} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  if (headerLength > bytes.length - 8) {
    throw new CheckpointError(
      `not a safetensors file, or truncated: header length ${headerLength} runs past the end of the file (${bytes.length - 8} bytes follow the length)`,
    );
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch (e) {
    throw new CheckpointError('not a safetensors file: the header is not valid UTF-8', [], { cause: e });
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`not a safetensors file: the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`, [], { cause: e });
  }
  if (!isPlainObject(header)) throw new CheckpointError('not a safetensors file: the header is not a JSON object');

  const problems: string[] = [];
  const metadata: Array<[string, string]> = [];
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (info === null) continue;
      if (!isPlainObject(info)) {
        problems.push(`__metadata__ is ${Array.isArray(info) ? 'an array' : `a ${typeof info}`}, not an object of strings`);
        continue;
      }
      for (const [k, v] of Object.entries(info)) {
        if (typeof v === 'string') metadata.push([k, v]);
        else problems.push(`metadata ${showName(k)}: value ${JSON.stringify(v)} is not a string`);
      }
      continue;
    }
    const where = `tensor ${showName(name)}`;
    if (!isPlainObject(info)) {
      problems.push(`${where}: entry is not an object`);
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = info;
    const before = problems.length;
    if (!isDtype(dtype)) problems.push(`${where}: unsupported dtype ${JSON.stringify(dtype) ?? 'missing'} (supported: F32, I32, U8)`);
    const count = Array.isArray(shape) ? elementCount(shape) : undefined;
    if (count === undefined) problems.push(`${where}: shape ${JSON.stringify(shape) ?? 'missing'} is not a list of non-negative integers`);
    const validOffsets =
      Array.isArray(offsets) &&
      offsets.length === 2 &&
      offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0) &&
      (offsets[0] as number) <= (offsets[1] as number);
    if (!validOffsets) problems.push(`${where}: data_offsets ${JSON.stringify(offsets) ?? 'missing'} is not a pair [begin, end] of integers with 0 <= begin <= end`);
    if (problems.length > before) continue;
    const [begin, end] = offsets as [number, number];
    const size = (count as number) * BYTES_PER_ELEMENT[dtype as SafeDtype];
    if (end - begin !== size) {
      problems.push(`${where}: data_offsets [${begin},${end}] hold ${end - begin} bytes, but ${dtype as string} shape [${(shape as number[]).join(',')}] needs ${size}`);
      continue;
    }
    entries.push({ name, dtype: dtype as SafeDtype, shape: shape as number[], begin, end });
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const e of entries) {
    if (e.end > dataLength) {
      problems.push(`tensor ${showName(e.name)}: data_offsets [${e.begin},${e.end}] run past the end of the data buffer (${dataLength} bytes; file truncated?)`);
    }
    if (e.begin < covered) {
      problems.push(`tensor ${showName(e.name)}: data_offsets [${e.begin},${e.end}] overlap tensor ${showName(previous?.name ?? '')} (which ends at ${covered})`);
    } else if (e.begin > covered) {
      problems.push(`tensor ${showName(e.name)}: data_offsets [${e.begin},${e.end}] leave a hole: bytes [${covered},${e.begin}) belong to no tensor`);
    }
    if (e.end >= covered) {
      covered = e.end;
      previous = e;
    }
  }
  if (problems.length === 0 && covered !== dataLength) {
    problems.push(`the data buffer has ${dataLength} bytes but the tensors cover ${covered}: ${dataLength - covered} trailing bytes belong to no tensor`);
  }
  if (problems.length > 0) throw new CheckpointError('invalid safetensors file', problems);

  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    const data = readData(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, (e.end - e.begin) / BYTES_PER_ELEMENT[e.dtype]);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata: Object.fromEntries(metadata) };
};
