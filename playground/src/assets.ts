/**
 * The playground's bundled files, as the page fetches them: an index of the shipped models and a few
 * held-out digits to start from. Both are checked with io-ts, so a stale or hand-edited file gets a
 * message naming the bad field rather than a blank page.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

const nullableNumber = t.union([t.number, t.null]);

const ModelEntry = t.strict({
  task: t.keyof({ sr: null, colorize: null, 'inpaint-center': null, 'inpaint-right': null, sketch: null }),
  file: t.string,
  steps: t.number,
  trainMinutes: nullableNumber,
  /** Held-out NLL in bits/dim, the bound (uniform dequantisation noise), as typed-flows eval reports it. */
  bitsPerDim: nullableNumber,
  /** The same with mid-bin dequantisation (u = 0.5): not a bound. */
  midBinBitsPerDim: nullableNumber,
  ssim: nullableNumber,
  command: t.string,
});
export const CheckpointIndex = t.strict({ models: t.array(ModelEntry) });
export type CheckpointIndex = t.TypeOf<typeof CheckpointIndex>;
export type ModelEntry = t.TypeOf<typeof ModelEntry>;

const ExampleSet = t.strict({ channels: t.number, size: t.number, count: t.number, pixels: t.string });
export type ExampleSet = t.TypeOf<typeof ExampleSet>;
export const Examples = t.strict({ grey: ExampleSet, colour: ExampleSet });
export type Examples = t.TypeOf<typeof Examples>;

/** Decodes with io-ts; the error names each bad field. */
export const decodeAsset = <A>(codec: t.Type<A, unknown, unknown>, json: unknown, what: string): A => {
  const r = codec.decode(json);
  if (E.isRight(r)) return r.right;
  const fields = r.left.map((e) =>
    e.context
      .map((c) => c.key)
      .filter((k) => k !== '')
      .join('.'),
  );
  throw new Error(`${what} is malformed at ${[...new Set(fields)].join(', ') || 'its root'}`);
};

/** The images of a set, each HWC bytes. */
export const exampleImages = (set: ExampleSet): Uint8Array[] => {
  const binary = atob(set.pixels);
  const all = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  const n = set.size * set.size * set.channels;
  if (all.length !== n * set.count) throw new Error(`examples: expected ${n * set.count} bytes, got ${all.length}`);
  return Array.from({ length: set.count }, (_, i) => all.slice(i * n, (i + 1) * n));
};
