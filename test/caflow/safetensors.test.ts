/**
 * The safetensors container: a byte-exact fixture, round trips over generated tensors and metadata,
 * and every kind of corruption rejected with a CheckpointError that says what is wrong.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type SafeTensor } from '../../src/io/safetensors.js';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** A file from a raw header text and data bytes (padded like the encoder unless `pad` is false). */
const rawFile = (header: string, data: number[] = [], pad = true): Uint8Array => {
  const json = new TextEncoder().encode(header);
  const n = pad ? Math.ceil(json.length / 8) * 8 : json.length;
  const out = new Uint8Array(8 + n + data.length);
  new DataView(out.buffer).setUint32(0, n, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  out.set(data, 8 + n);
  return out;
};

const errorOf = (f: () => unknown): CheckpointError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('expected a CheckpointError, nothing was thrown');
};

describe('byte-exact fixture', () => {
  // Two tensors given out of order (the encoder sorts by name) and one metadata entry.
  const tensors: Array<[string, SafeTensor]> = [
    ['b', { dtype: 'I32', shape: [2], data: Int32Array.from([1, -1]) }],
    ['a', { dtype: 'F32', shape: [], data: Float32Array.from([1.5]) }],
  ];
  const header =
    '{"__metadata__":{"k":"v"},' +
    '"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
    '"b":{"dtype":"I32","shape":[2],"data_offsets":[4,12]}}';
  // Counted by hand: 1 + 14 + 1 + 9 + 1 (metadata) + 3 + 1 + 47 + 1 (a) + 3 + 1 + 49 + 1 (b, closing brace) = 132,
  // padded with 4 spaces to 136 = 0x88.
  const expected = Uint8Array.from([
    0x88, 0, 0, 0, 0, 0, 0, 0,
    ...ascii(header),
    0x20, 0x20, 0x20, 0x20,
    0x00, 0x00, 0xc0, 0x3f, // 1.5f = 0x3fc00000, little-endian
    0x01, 0x00, 0x00, 0x00, // 1
    0xff, 0xff, 0xff, 0xff, // -1
  ]);

  it('encodes to exactly the expected bytes', () => {
    expect(header.length).toBe(132);
    expect(expected.length).toBe(8 + 136 + 12);
    expect(encodeSafetensors(tensors, { k: 'v' })).toEqual(expected);
  });

  it('decodes the fixture', () => {
    const { tensors: got, metadata } = decodeSafetensors(expected);
    expect(metadata).toEqual({ k: 'v' });
    expect([...got.keys()]).toEqual(['a', 'b']);
    expect(got.get('a')).toEqual({ dtype: 'F32', shape: [], data: Float32Array.from([1.5]) });
    expect(got.get('b')).toEqual({ dtype: 'I32', shape: [2], data: Int32Array.from([1, -1]) });
  });

  it('omits empty metadata and writes an empty file as a bare header', () => {
    expect(encodeSafetensors([])).toEqual(Uint8Array.from([8, 0, 0, 0, 0, 0, 0, 0, ...ascii('{}      ')]));
    expect(decodeSafetensors(encodeSafetensors([], {}))).toEqual({ tensors: new Map(), metadata: {} });
  });

  it('decodes from an unaligned view (tensor data at an odd address) into fresh aligned arrays', () => {
    const shifted = new Uint8Array(expected.length + 3);
    shifted.set(expected, 1);
    const view = shifted.subarray(1, 1 + expected.length);
    const got = decodeSafetensors(view).tensors;
    expect(got.get('a')?.data).toEqual(Float32Array.from([1.5]));
    expect(got.get('b')?.data).toEqual(Int32Array.from([1, -1]));
    shifted.fill(0); // the decoded arrays do not alias the input
    expect(got.get('b')?.data).toEqual(Int32Array.from([1, -1]));
  });

  it('accepts an unpadded header and a null __metadata__ (other writers)', () => {
    const file = rawFile('{"__metadata__":null,"x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}', [7, 0, 0, 0], false);
    expect(decodeSafetensors(file).tensors.get('x')?.data).toEqual(Int32Array.from([7]));
  });
});

// ---------------------------------------------------------------------------------------------

const nameArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('params.0.net.conv0.kernel', '__proto__', 'constructor', '0', '10', '', '\ud800', 'a\udfffb', 'ü', '🙂'),
).filter((s) => s !== '__metadata__');

const tensorArb: fc.Arbitrary<SafeTensor> = fc
  .tuple(fc.constantFrom('F32' as const, 'I32' as const, 'U8' as const), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (dtype === 'F32') return fc.array(fc.float(), { minLength: n, maxLength: n }).map((v): SafeTensor => ({ dtype, shape, data: Float32Array.from(v) }));
    if (dtype === 'U8') return fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n }).map((v): SafeTensor => ({ dtype, shape, data: Uint8Array.from(v) }));
    return fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n }).map((v): SafeTensor => ({ dtype, shape, data: Int32Array.from(v) }));
  });

const fileArb = fc.record({
  tensors: fc.uniqueArray(fc.tuple(nameArb, tensorArb), { selector: ([n]) => n, maxLength: 6 }),
  metadata: fc.dictionary(nameArb, fc.string({ unit: 'binary', maxLength: 10 }), { maxKeys: 4 }),
});

/** Bitwise equality (NaN payloads and -0 included). */
const sameBits = (a: SafeTensor['data'], b: SafeTensor['data']): boolean =>
  a.constructor === b.constructor &&
  a.length === b.length &&
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength).every((x, i) => x === new Uint8Array(b.buffer, b.byteOffset, b.byteLength)[i]);

describe('round trip', () => {
  it('decode(encode(x)) = x for generated names (unicode, empty), shapes (incl. 0-size, scalars), values and metadata', () => {
    fc.assert(
      fc.property(fileArb, ({ tensors, metadata }) => {
        const bytes = encodeSafetensors(tensors, metadata);
        expect(new DataView(bytes.buffer).getUint32(0, true) % 8).toBe(0);
        const decoded = decodeSafetensors(bytes);
        expect(decoded.metadata).toEqual(metadata);
        expect(decoded.tensors.size).toBe(tensors.length);
        for (const [name, t] of tensors) {
          const got = decoded.tensors.get(name);
          expect(got?.dtype).toBe(t.dtype);
          expect(got?.shape).toEqual(t.shape);
          expect(sameBits(got!.data, t.data)).toBe(true);
        }
        // Encoding is canonical: re-encoding the decoded file gives the same bytes.
        expect(encodeSafetensors(decoded.tensors, decoded.metadata)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

const okEntry = '"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';
const eightBytes = [0, 0, 128, 63, 0, 0, 0, 64];

describe('corrupt files give a CheckpointError saying what is wrong', () => {
  it.each<[string, () => Uint8Array, RegExp]>([
    ['empty file', () => new Uint8Array(0), /fewer than the 8-byte header length/],
    ['shorter than the length prefix', () => Uint8Array.from([16, 0, 0]), /3 bytes, fewer than the 8-byte/],
    ['header length beyond the file', () => rawFile(`{${okEntry}}`, eightBytes).subarray(0, 40), /header length 56 runs past the end of the file \(32 bytes follow/],
    ['absurd header length (u64 high word)', () => Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0x7b, 0x7d]), /exceeds the limit/],
    ['header that is not JSON', () => rawFile('{"x": {"dtype": "F32",'), /header is not valid JSON/],
    ['header that is not UTF-8', () => { const f = rawFile('{"xx":1}'); f[10] = 0xff; return f; }, /not valid UTF-8/],
    ['header that is an array', () => rawFile('[1,2]'), /header is not a JSON object/],
    ['unknown dtype', () => rawFile('{"x":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}', eightBytes), /tensor "x": unsupported dtype "F16" \(supported: F32, I32, U8\)/],
    ['missing dtype', () => rawFile('{"x":{"shape":[2],"data_offsets":[0,8]}}', eightBytes), /tensor "x": unsupported dtype missing/],
    ['negative dimension', () => rawFile('{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', eightBytes), /shape \[-2\] is not a list of non-negative integers/],
    ['offsets that are not a pair', () => rawFile('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}}', eightBytes), /data_offsets \[0\] is not a pair/],
    ['offsets backwards', () => rawFile('{"x":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}', eightBytes), /0 <= begin <= end/],
    ['size not matching shape * dtype', () => rawFile('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', eightBytes), /tensor "x": data_offsets \[0,8\] hold 8 bytes, but F32 shape \[3\] needs 12/],
    ['offsets past the data buffer', () => rawFile(`{${okEntry}}`, eightBytes.slice(0, 4)), /tensor "x": data_offsets \[0,8\] run past the end of the data buffer \(4 bytes/],
    [
      'overlapping tensors',
      () => rawFile('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', eightBytes),
      /tensor "y": data_offsets \[4,8\] overlap tensor "x"/,
    ],
    ['a hole in the data', () => rawFile('{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', eightBytes), /leave a hole: bytes \[0,4\) belong to no tensor/],
    ['trailing bytes', () => rawFile(`{${okEntry}}`, [...eightBytes, 1, 2, 3, 4]), /12 bytes but the tensors cover 8: 4 trailing bytes/],
    ['non-string metadata value', () => rawFile(`{"__metadata__":{"step":3},${okEntry}}`, eightBytes), /metadata "step": value 3 is not a string/],
    ['metadata that is not an object', () => rawFile(`{"__metadata__":["a"],${okEntry}}`, eightBytes), /__metadata__ is an array/],
    ['entry that is not an object', () => rawFile('{"x":5}'), /tensor "x": entry is not an object/],
  ])('%s', (_, file, message) => {
    const e = errorOf(() => decodeSafetensors(file()));
    expect(e.message).toMatch(message);
    expect(e.name).toBe('CheckpointError');
  });

  it('lists every problem, not only the first', () => {
    const e = errorOf(() =>
      decodeSafetensors(rawFile('{"__metadata__":{"a":1},"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}', eightBytes)),
    );
    expect(e.problems).toHaveLength(3);
  });

  const filesArb = fileArb.map(({ tensors, metadata }) => encodeSafetensors(tensors, metadata));

  it('truncating a file at any byte always gives a CheckpointError', () => {
    fc.assert(
      fc.property(filesArb, fc.nat(), (bytes, cut) => {
        const at = cut % bytes.length;
        errorOf(() => decodeSafetensors(bytes.slice(0, at)));
      }),
      { numRuns: 300 },
    );
  });

  it('flipping bytes of the length or header never throws anything but a CheckpointError', () => {
    fc.assert(
      fc.property(filesArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (bytes, flips) => {
        const headerEnd = 8 + new DataView(bytes.buffer).getUint32(0, true);
        const corrupt = bytes.slice();
        for (const [at, mask] of flips) corrupt[at % headerEnd] = (corrupt[at % headerEnd] as number) ^ mask;
        try {
          decodeSafetensors(corrupt);
        } catch (e) {
          expect(e).toBeInstanceOf(CheckpointError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes never throw anything but a CheckpointError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 60 }), (tail, n) => {
        const bytes = new Uint8Array(8 + tail.length);
        new DataView(bytes.buffer).setUint32(0, n, true);
        bytes.set(tail, 8);
        try {
          decodeSafetensors(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(CheckpointError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('encoder input checks', () => {
  it('rejects duplicate names, the reserved name, wrong array types and shapes that do not match the data', () => {
    const e = errorOf(() =>
      encodeSafetensors([
        ['a', { dtype: 'F32', shape: [1], data: Float32Array.from([1]) }],
        ['a', { dtype: 'F32', shape: [1], data: Float32Array.from([1]) }],
        ['__metadata__', { dtype: 'F32', shape: [1], data: Float32Array.from([1]) }],
        ['b', { dtype: 'I32', shape: [1], data: Float32Array.from([1]) }],
        ['c', { dtype: 'F32', shape: [2, 2], data: Float32Array.from([1]) }],
      ]),
    );
    expect(e.problems).toEqual([
      'tensor "a" appears twice',
      '"__metadata__" is reserved and cannot name a tensor',
      'tensor "b": dtype I32 needs a Int32Array',
      'tensor "c": shape [2,2] has 4 elements but the data has 1',
    ]);
  });
});
