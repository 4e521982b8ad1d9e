/**
 * Numbers that become float32: a stored tensor under another dtype label is refused, naming it (its
 * bytes would be read as other numbers: an import whose samples are noise), and numbers from data files
 * are checked against float32's range (1e39 is a finite double but an infinite float32).
 */
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { actnorm, chain, inv1x1 } from '../../src/dsl/index.js';
import { disposeParams, type ParamTree } from '../../src/interpreters/index.js';
import { perturbedParams } from '../../src/interpreters/verify.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint.js';
import { parseCsvPoints, parseJsonPoints } from '../../src/cli/points.js';
import { UsageError } from '../../src/cli/io.js';
import { FLOAT32_MAX, fitsFloat32 } from '../../src/cli/float32.js';

const flow = chain(actnorm([3, 2, 2]), inv1x1([3, 2, 2]));

/** The same file with tensor `name`'s dtype label changed from F32 to I32 (same byte length: only the header changes). */
const relabel = (bytes: Uint8Array, name: string): Uint8Array => {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const at = header.indexOf(`"${name}":{"dtype":"F32"`);
  expect(at, `tensor ${name} in the header`).toBeGreaterThanOrEqual(0);
  const changed = header.slice(0, at) + header.slice(at).replace('"F32"', '"I32"');
  const out = new Uint8Array(bytes);
  out.set(new TextEncoder().encode(changed), 8);
  return out;
};

describe('stored dtypes are compared with the model\'s', () => {
  it('a parameter labelled I32 (the bytes of its F32 values) is refused, naming it; no tensor is left', async () => {
    // Perturbed, so the bytes are not the identity's round numbers.
    const params = perturbedParams(flow, 3, 0.3);
    const bytes = await encodeCheckpoint({ spec: flow, params, step: 2 });
    for (const name of ['params.0.logScale', 'params.1.weight']) {
      const before = tf.memory().numTensors;
      const error = (() => {
        try {
          decodeCheckpoint(relabel(bytes, name), { spec: flow });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).problems).toEqual([`${name}: dtype I32, expected F32 (the model's parameters are float32)`]);
      expect(tf.memory().numTensors).toBe(before);
    }
    disposeParams(params);
  });
});

describe('numbers from data files fit float32', () => {
  it('fitsFloat32 is exactly "finite after rounding to float32"', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (v) => {
        expect(fitsFloat32(v)).toBe(Math.abs(Math.fround(v)) !== Infinity);
        // Values up to FLOAT32_MAX always fit; 2^128 never does.
        if (Math.abs(v) <= FLOAT32_MAX) expect(fitsFloat32(v)).toBe(true);
        if (Math.abs(v) >= 2 ** 128) expect(fitsFloat32(v)).toBe(false);
      }),
    );
  });

  it('CSV and JSON name the line, field and column of a number past float32', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 2 }), fc.constantFrom('1e39', '-3.5e38', '1e300'), (row, col, huge) => {
        const rows = Array.from({ length: 6 }, (_, r) => [0.5, 1, 2].map((v, c) => (r === row && c === col ? huge : String(v * r))));
        const csv = `a,b,c\n${rows.map((r) => r.join(',')).join('\n')}\n`;
        expect(() => parseCsvPoints(csv, 'p.csv')).toThrow(UsageError);
        expect(() => parseCsvPoints(csv, 'p.csv')).toThrow(new RegExp(`^p\\.csv:${row + 2}: field ${col + 1} \\(column "${'abc'[col]}"\\), ${huge.replace('.', '\\.')}, is outside float32's range`));
        const json = `[\n${rows.map((r) => `[${r.join(', ')}]`).join(',\n')}\n]`;
        expect(() => parseJsonPoints(json, 'p.json')).toThrow(new RegExp(`^p\\.json:${row + 2} \\(row ${row + 1}\\): entry ${col + 1}, .*, is outside float32's range`));
      }),
    );
    // The largest float32 itself is accepted.
    expect(parseCsvPoints(`${FLOAT32_MAX},1\n2,3\n`, 'ok.csv').values[0]).toBe(Math.fround(FLOAT32_MAX));
  });
});
