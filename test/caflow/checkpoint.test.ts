/**
 * Checkpoints of real flows: round trips through bytes and files (params, optimizer state, step,
 * config), trees rebuilt to mirror the spec, mismatches reported by tensor name, atomic file writes,
 * and no leaked tensors.
 */
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actnorm,
  additiveCoupling,
  affine,
  affineCoupling,
  chain,
  chainOf,
  convNet,
  encodeSpec,
  factorOut,
  inv1x1,
  inv1x1LU,
  invert,
  repeat,
  squeeze,
  type AnyFlow,
  type Shape3,
} from '../../src/dsl/index.js';
import {
  checkParams,
  disposeParams,
  flattenParams,
  forward,
  init,
  mapParams,
  paramInfo,
  paramShapes,
  perturbedParams,
  type ParamTree,
} from '../../src/interpreters/index.js';
import {
  CHECKPOINT_FORMAT,
  CheckpointError,
  decodeCheckpoint,
  disposeCheckpoint,
  encodeCheckpoint,
  optimizerFromFlat,
  paramsFromFlat,
} from '../../src/io/checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { readCheckpointFile, writeCheckpointFile } from '../../src/node/checkpoint-file.js';

const flowWith = (hidden: number) =>
  chain(squeeze([2, 4, 4]), actnorm([8, 2, 2]), inv1x1LU([8, 2, 2]), affineCoupling([8, 2, 2], { net: convNet({ hidden }) }));
const flow = flowWith(4);

/** Shape-preserving flows on `s` nested up to `depth` levels deep (chain, repeat, invert), with a factor-out at the end. */
const bodyArb = (s: Shape3, depth: number): fc.Arbitrary<AnyFlow> => {
  const net = convNet({ hidden: 2 });
  const leaves: Array<(s: Shape3) => AnyFlow> = [(x) => actnorm(x), (x) => affine(x), (x) => inv1x1(x), (x) => inv1x1LU(x)];
  if (s[0] >= 2) leaves.push((x) => affineCoupling(x, { net }), (x) => additiveCoupling(x, { net }));
  const leaf = fc.constantFrom(...leaves).map((make) => make(s));
  if (depth === 0) return leaf;
  const inner = bodyArb(s, depth - 1);
  return fc.oneof(
    leaf,
    fc.array(inner, { minLength: 1, maxLength: 3 }).map((steps) => chainOf(steps)),
    inner.map((b) => repeat(b as never, 2) as AnyFlow),
    inner.map((b) => invert(b)),
  );
};
const nestedFlowArb: fc.Arbitrary<AnyFlow> = fc
  .tuple(bodyArb([4, 2, 2], 2), fc.option(bodyArb([2, 2, 2], 1), { nil: undefined }))
  .map(([body, rest]) => (rest === undefined ? body : chainOf([body, factorOut([4, 2, 2], rest as never) as AnyFlow])));

/** Tensors replaced by { shape, dtype, data } so trees can be compared with toEqual. */
const snapshot = (tree: ParamTree): unknown => {
  if (tree instanceof tf.Tensor) return { shape: tree.shape, dtype: tree.dtype, data: Array.from(tree.dataSync()) };
  if (Array.isArray(tree)) return tree.map(snapshot);
  return Object.fromEntries(Object.entries(tree).map(([k, t]) => [k, snapshot(t as ParamTree)]));
};

const errorOf = async (f: () => unknown): Promise<CheckpointError> => {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('expected a CheckpointError, nothing was thrown');
};

/** Runs `f` and checks that it leaves exactly as many tensors as it found. */
const noLeaks = async (f: () => Promise<void> | void): Promise<void> => {
  const before = tf.memory().numTensors;
  await f();
  expect(tf.memory().numTensors).toBe(before);
};

describe('checkpoint of a Glow-like flow', () => {
  it('round-trips params, optimizer state, step and config; the rebuilt tree mirrors the spec and computes the same outputs', async () => {
    await noLeaks(async () => {
      // Perturbed so that the zero-initialised last conv layer is not zero (forward is then not trivial).
      const params = tf.tidy(() => perturbedParams(flow, 3, 0.1) as tf.TensorContainer) as ParamTree; // (it leaks its noise otherwise)
      const m = mapParams(params, (t) => tf.mul(t, 0.5));
      const v = mapParams(params, (t) => tf.square(t));
      const config = { lr: 1e-3, betas: [0.9, 0.999], data: 'ünïcode', nested: { ok: true } };

      const bytes = await encodeCheckpoint({ spec: flow, params, optimizer: { m, v }, step: 1234, config });
      const ckpt = decodeCheckpoint(bytes, { spec: flow });

      expect(ckpt.step).toBe(1234);
      expect(ckpt.config).toEqual(config);
      expect(ckpt.specJson).toBe(encodeSpec(flow));
      // The stored spec carries its format version, then the spec's own fields.
      expect(JSON.parse(ckpt.specJson)).toEqual({ format: 'typed-flows/spec@1', ...(JSON.parse(JSON.stringify(flow)) as object) });
      expect(ckpt.metadata['format']).toBe(CHECKPOINT_FORMAT);
      expect([...ckpt.params.keys()]).toEqual(expect.arrayContaining(paramInfo(flow).map((p) => p.path)));
      expect([...ckpt.optimizer.keys()].sort()).toEqual(['m', 'v']);

      const rebuilt = paramsFromFlat(flow, ckpt.params);
      expect(() => checkParams(flow, rebuilt)).not.toThrow();
      expect(snapshot(rebuilt)).toEqual(snapshot(params));
      const opt = optimizerFromFlat(flow, ckpt.optimizer);
      expect(snapshot(opt['m'] as ParamTree)).toEqual(snapshot(m));
      expect(snapshot(opt['v'] as ParamTree)).toEqual(snapshot(v));

      const x = tf.randomNormal<tf.Rank.R4>([3, 4, 4, 2], 0, 1, 'float32', 7);
      const a = forward(flow, params)(x);
      const b = forward(flow, rebuilt)(x);
      expect(Array.from(await b.y.data())).toEqual(Array.from(await a.y.data()));
      expect(Array.from(await b.logDet.data())).toEqual(Array.from(await a.logDet.data()));
      // The coupling's last layer is not zero, so its network takes part in the outputs compared above.
      const lastKernel = flattenParams(params).find(([p]) => p === '3.net.conv2.kernel')?.[1];
      expect(Array.from(lastKernel?.dataSync() ?? []).some((d) => d !== 0)).toBe(true);

      tf.dispose([x, a.y, a.logDet, b.y, b.logDet]);
      for (const t of [params, m, v]) disposeParams(t);
      disposeCheckpoint(ckpt); // the rebuilt trees hold the checkpoint's tensors
    });
  });

  it('names tensors params.<path> and optimizer.<slot>.<path>, keeps int32 tensors, and omits config when there is none', async () => {
    await noLeaks(async () => {
      const params = init(flow, { seed: 1 });
      const counts = { m: mapParams(params, (t) => tf.zeros(t.shape, 'int32')) };
      const bytes = await encodeCheckpoint({ specJson: '{"model":"composite"}', params, optimizer: counts, step: 0 });
      const raw = decodeSafetensors(bytes);
      expect(Object.keys(raw.metadata).sort()).toEqual(['format', 'spec', 'specFormat', 'step']);
      expect(raw.metadata['specFormat']).toBe('typed-flows/spec@1');
      expect(raw.tensors.get('params.3.net.conv0.kernel')?.shape).toEqual([3, 3, 4, 4]);
      expect(raw.tensors.get('optimizer.m.2.permutation')?.dtype).toBe('I32');
      const ckpt = decodeCheckpoint(bytes, { specJson: '{ "model": "composite" }', paramInfo: paramInfo(flow) });
      expect(ckpt.config).toBeUndefined();
      expect(ckpt.optimizer.get('m')?.get('3.net.conv2.bias')?.dtype).toBe('int32');
      disposeParams(params);
      disposeParams(counts.m);
      disposeCheckpoint(ckpt);
    });
  });

  it('rebuilds trees that mirror paramShapes for generated flows (arrays for chain/repeat/parallel, records elsewhere)', async () => {
    const shapeSkeleton = (tree: ParamTree): unknown =>
      tree instanceof tf.Tensor ? tree.shape : Array.isArray(tree) ? tree.map(shapeSkeleton) : Object.fromEntries(Object.entries(tree).map(([k, t]) => [k, shapeSkeleton(t as ParamTree)]));
    await fc.assert(
      fc.asyncProperty(nestedFlowArb, fc.nat({ max: 100 }), async (f, seed) => {
        await noLeaks(async () => {
          const params = init(f, { seed });
          const ckpt = decodeCheckpoint(await encodeCheckpoint({ spec: f, params, step: seed }), { spec: f });
          const rebuilt = paramsFromFlat(f, ckpt.params);
          expect(shapeSkeleton(rebuilt)).toEqual(paramShapes(f));
          expect(shapeSkeleton(rebuilt)).toEqual(shapeSkeleton(params));
          expect(() => checkParams(f, rebuilt)).not.toThrow();
          expect(snapshot(rebuilt)).toEqual(snapshot(params));
          disposeParams(params);
          disposeCheckpoint(ckpt);
        });
      }),
      { numRuns: 25 },
    );
  });
});

describe('mismatches are reported by name', () => {
  let bytes: Uint8Array;
  beforeAll(async () => {
    const params = init(flow, { seed: 0 });
    bytes = await encodeCheckpoint({ spec: flow, params, optimizer: { m: params }, step: 5 });
    disposeParams(params);
  });

  it('a different spec lists the spec fields and every tensor whose shape differs, and creates no tensors', async () => {
    await noLeaks(async () => {
      const e = await errorOf(() => decodeCheckpoint(bytes, { spec: flowWith(8) }));
      expect(e.summary).toBe('the checkpoint does not match the expected model');
      expect(e.problems).toEqual([
        'spec $.steps[3].net.hidden: 4 in the checkpoint, expected 8',
        'params.3.net.conv0.kernel: shape [3,3,4,4], expected [3,3,4,8]',
        'params.3.net.conv0.bias: shape [4], expected [8]',
        'params.3.net.conv1.kernel: shape [1,1,4,4], expected [1,1,8,8]',
        'params.3.net.conv1.bias: shape [4], expected [8]',
        'params.3.net.conv2.kernel: shape [3,3,4,8], expected [3,3,8,8]',
        'optimizer.m.3.net.conv0.kernel: shape [3,3,4,4], expected [3,3,4,8]',
        'optimizer.m.3.net.conv0.bias: shape [4], expected [8]',
        'optimizer.m.3.net.conv1.kernel: shape [1,1,4,4], expected [1,1,8,8]',
        'optimizer.m.3.net.conv1.bias: shape [4], expected [8]',
        'optimizer.m.3.net.conv2.kernel: shape [3,3,4,8], expected [3,3,8,8]',
      ]);
      expect(e.message).toContain('params.3.net.conv0.kernel: shape [3,3,4,4], expected [3,3,4,8]');
    });
  });

  it('missing and extra parameters are listed', async () => {
    const info = [...paramInfo(flow).filter((p) => p.path !== '1.bias'), { path: '4.weight', shape: [8, 8] }];
    const e = await errorOf(() => decodeCheckpoint(bytes, { paramInfo: info }));
    expect(e.problems).toEqual(['params.4.weight: missing (expected [8,8])', 'params.1.bias: not a parameter of the expected model', 'optimizer.m.1.bias: not a parameter of the expected model']);
  });

  it('a structurally different spec (other steps) is described by JSON path', async () => {
    const other = chain(squeeze([2, 4, 4]), actnorm([8, 2, 2]));
    const e = await errorOf(() => decodeCheckpoint(bytes, { spec: other }));
    expect(e.problems[0]).toBe('spec $.steps: 4 entries in the checkpoint, expected 2');
    expect(e.problems).toContain('params.2.permutation: not a parameter of the expected model');
  });

  it('paramsFromFlat lists missing, extra and mis-shaped tensors', async () => {
    await noLeaks(() => {
      const ckpt = decodeCheckpoint(bytes);
      const flat = new Map(ckpt.params);
      flat.delete('1.logScale');
      flat.set('1.bias', flat.get('2.sign') as tf.Tensor); // [8] either way: fine
      flat.set('3.net.conv0.bias', flat.get('2.lower') as tf.Tensor);
      flat.set('9.extra', flat.get('2.sign') as tf.Tensor);
      const e = (() => {
        try {
          paramsFromFlat(flow, flat);
        } catch (err) {
          return err as CheckpointError;
        }
        throw new Error('no error');
      })();
      expect(e).toBeInstanceOf(CheckpointError);
      expect(e.problems).toEqual(['1.logScale: missing (expected [8])', '3.net.conv0.bias: shape [8,8], expected [4]', '9.extra: not a parameter of this model']);
      disposeCheckpoint(ckpt);
    });
  });
});

describe('bad input', () => {
  it('a safetensors file that is not a checkpoint', async () => {
    const plain = encodeSafetensors([['w', { dtype: 'F32', shape: [1], data: Float32Array.from([1]) }]]);
    expect((await errorOf(() => decodeCheckpoint(plain))).message).toMatch(/not a typed-flows checkpoint: a safetensors file without metadata "format"/);
    const other = encodeSafetensors([], { format: 'pt' });
    expect((await errorOf(() => decodeCheckpoint(other))).message).toMatch(/metadata "format" is "pt"/);
  });

  it('8-bit tensors (safetensors U8, as in the PyTorch export\'s data file) are no checkpoint\'s', async () => {
    const meta = { format: CHECKPOINT_FORMAT, spec: '{}', step: '1' };
    const bytes = encodeSafetensors([['params.x', { dtype: 'U8', shape: [2], data: Uint8Array.from([1, 2]) }]], meta);
    expect((await errorOf(() => decodeCheckpoint(bytes))).message).toMatch(/its tensors are F32 or I32:\n {2}tensor "params.x": dtype U8/);
  });

  it('bad metadata and stray tensor names', async () => {
    const meta = { format: CHECKPOINT_FORMAT, spec: '{}', step: '1' };
    expect((await errorOf(() => decodeCheckpoint(encodeSafetensors([], { ...meta, step: '-1' })))).message).toMatch(/"step" is "-1", expected a non-negative integer/);
    expect((await errorOf(() => decodeCheckpoint(encodeSafetensors([], { ...meta, config: '{nope' })))).message).toMatch(/"config" is not valid JSON/);
    expect((await errorOf(() => decodeCheckpoint(encodeSafetensors([], { format: CHECKPOINT_FORMAT, step: '1' })))).message).toMatch(/"spec" is missing/);
    // A spec format from a newer version is named, not misread; an older file (no specFormat) loads.
    expect((await errorOf(() => decodeCheckpoint(encodeSafetensors([], { ...meta, specFormat: 'typed-flows/spec@2' })))).message).toMatch(/spec format is "typed-flows\/spec@2"; this build of typed-flows reads "typed-flows\/spec@1"/);
    expect(decodeCheckpoint(encodeSafetensors([], meta)).step).toBe(1);
    const stray = encodeSafetensors([['weights.0', { dtype: 'F32', shape: [], data: Float32Array.from([0]) }]], meta);
    expect((await errorOf(() => decodeCheckpoint(stray))).problems).toEqual(['weights.0: not a checkpoint tensor (names start with "params." or "optimizer.<slot>.")']);
  });

  it('encoding rejects bad steps, configs, slot names, bool tensors and disposed tensors', async () => {
    await noLeaks(async () => {
      const t = tf.ones([2]);
      const params = { a: t };
      expect((await errorOf(() => encodeCheckpoint({ specJson: '{}', params, step: 1.5 }))).message).toMatch(/step 1.5/);
      expect((await errorOf(() => encodeCheckpoint({ specJson: '{', params, step: 1 }))).message).toMatch(/specJson: not valid JSON/);
      expect((await errorOf(() => encodeCheckpoint({ specJson: '{}', params, step: 1, config: { n: 1n } }))).message).toMatch(/config: not JSON-serialisable/);
      expect((await errorOf(() => encodeCheckpoint({ specJson: '{}', params, optimizer: { 'a.b': params }, step: 1 }))).message).toMatch(/slot "a.b"/);
      const flag = tf.tensor1d([true], 'bool');
      expect((await errorOf(() => encodeCheckpoint({ specJson: '{}', params: { flag }, step: 1 }))).message).toMatch(/tensor "params.flag": dtype bool/);
      flag.dispose();
      t.dispose();
      expect((await errorOf(() => encodeCheckpoint({ specJson: '{}', params, step: 1 }))).message).toMatch(/cannot read tensor "params.a": .*disposed/);
    });
  });

  it('corrupted checkpoints only ever give CheckpointErrors', async () => {
    const params = init(flow, { seed: 0 });
    const bytes = await encodeCheckpoint({ spec: flow, params, step: 1, config: { a: 1 } });
    disposeParams(params);
    const before = tf.memory().numTensors;
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, mask, truncate) => {
        const corrupt = truncate ? bytes.slice(0, at % bytes.length) : bytes.slice();
        if (!truncate) corrupt[at % 2000] = (corrupt[at % 2000] as number) ^ mask; // length prefix and header
        try {
          disposeCheckpoint(decodeCheckpoint(corrupt, { spec: flow }));
        } catch (e) {
          expect(e).toBeInstanceOf(CheckpointError);
        }
      }),
      { numRuns: 500 },
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('checkpoint files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'typed-flows-ckpt-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes and reads back a checkpoint, replacing an older file', async () => {
    await noLeaks(async () => {
      const path = join(dir, 'model.safetensors');
      const params = init(flow, { seed: 0 });
      await writeCheckpointFile(path, await encodeCheckpoint({ spec: flow, params, step: 1 }));
      await writeCheckpointFile(path, await encodeCheckpoint({ spec: flow, params, step: 2 }));
      const ckpt = await readCheckpointFile(path, { spec: flow });
      expect(ckpt.step).toBe(2);
      expect(snapshot(paramsFromFlat(flow, ckpt.params))).toEqual(snapshot(params));
      expect(await readdir(dir)).toEqual(['model.safetensors']);
      disposeParams(params);
      disposeCheckpoint(ckpt);
    });
  });

  it('leaves the old file intact and no temp file when the write fails midway', async () => {
    const path = join(dir, 'intact.safetensors');
    const params = init(flow, { seed: 0 });
    const old = await encodeCheckpoint({ spec: flow, params, step: 1 });
    const next = await encodeCheckpoint({ spec: flow, params, step: 2 });
    disposeParams(params);
    await writeCheckpointFile(path, old);
    const before = (await readdir(dir)).sort();

    async function* failing(): AsyncGenerator<Uint8Array> {
      yield next.subarray(0, 100);
      throw new Error('disk on fire');
    }
    await expect(writeCheckpointFile(path, failing())).rejects.toThrow('disk on fire');
    expect(new Uint8Array(await readFile(path))).toEqual(old);
    expect((await readdir(dir)).sort()).toEqual(before);

    // A chunk that is not bytes fails inside the write itself.
    await expect(writeCheckpointFile(path, [next.subarray(0, 8), 42 as unknown as Uint8Array])).rejects.toThrow();
    expect(new Uint8Array(await readFile(path))).toEqual(old);
    expect((await readdir(dir)).sort()).toEqual(before);

    // Renaming over a directory fails after the temp file is complete: it is removed too.
    const blocked = join(dir, 'blocked');
    await mkdir(join(blocked, 'inner'), { recursive: true });
    await expect(writeCheckpointFile(blocked, next)).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual([...before, 'blocked'].sort());
    await rm(blocked, { recursive: true });

    await expect(writeCheckpointFile(join(dir, 'no-such-dir', 'x.safetensors'), next)).rejects.toThrow(/ENOENT/);
  });

  it('reading a missing file or a file that is not a checkpoint gives a CheckpointError naming the path', async () => {
    const missing = join(dir, 'missing.safetensors');
    expect((await errorOf(() => readCheckpointFile(missing))).message).toBe(`cannot read checkpoint ${missing}: no such file`);
    expect((await errorOf(() => readCheckpointFile(dir))).message).toMatch(/it is a directory/);
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'these are not the weights you are looking for');
    expect((await errorOf(() => readCheckpointFile(text))).message).toMatch(new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a safetensors file`));
    await rm(text);
    const mismatch = join(dir, 'mismatch.safetensors');
    const params = init(flow, { seed: 0 });
    await writeCheckpointFile(mismatch, await encodeCheckpoint({ spec: flow, params, step: 1 }));
    disposeParams(params);
    const e = await errorOf(() => readCheckpointFile(mismatch, { spec: flowWith(8) }));
    expect(e.summary).toBe(`${mismatch}: the checkpoint does not match the expected model`);
    expect(e.problems).toContain('params.3.net.conv0.kernel: shape [3,3,4,4], expected [3,3,4,8]');
    await rm(mismatch);
  });
});
