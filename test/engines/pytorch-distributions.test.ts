/**
 * distributionToPyTorch against the tfjs interpreters, on /usr/bin/python3 with torch: for each base
 * kind (standard and diagonal normals, Gaussian mixtures, Student-t's) under flows, standardized and
 * conditional, with random non-trivial parameters (test/support/distribution-params.ts) loaded from
 * the model file `typed-flows fit` writes (encodeDistributionModel), the module's
 *
 * - log_prob(x, context) equals `logProb` at tfjs's draws;
 * - sample_from_noise(noise, context) fed the very noise `sampleAndLogProb` draws gives its draws and log p;
 * - sample(n) gives n finite draws of the event shapes (torch's own noise);
 * - its nn.Parameters are the trainable parameters (not the standardizer's location and scale, which
 *   are buffers), and the NLL's gradient reaches each of them, finite;
 * - `typed-flows export --model <file> --format pytorch --output <dir>` writes model.py and
 *   model.safetensors that give the same log p, and the output rule holds for that folder.
 *
 * Tolerance: max |torch - tfjs| / (1 + |tfjs|) <= 1e-4, the budget of the flows' PyTorch parity tests
 * (test/engines/pytorch-flows.test.ts): both sides run the same float32 formulas, differing in the
 * order of reductions and matrix products (a few ulps per op) over at most a handful of layers plus
 * one base density. A wrong formula, sign or parameter path gives errors of order 1e-2 and above.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SYSTEM_PYTHON } from '../../bench/pytorch.js';
import {
  diagonalNormal,
  distributionParamInfo,
  distributionSignature,
  encodeDistributionModel,
  gaussianMixture,
  logProb,
  sampleAndLogProb,
  standardized,
  standardNormals,
  studentT,
  transformed,
  type AnyDistribution,
  type DistributionSpec,
} from '../../src/distributions/index.js';
import { distributionToPyTorch } from '../../src/distributions/pytorch.js';
import { actnorm, affineCoupling, chain, factorOut, made, maskedAutoregressive, mlp, reverse, splineCoupling } from '../../src/dsl/index.js';
import { disposeParams } from '../../src/dsl/params.js';
import { tensorShape, type Shape } from '../../src/dsl/shape.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../../src/io/safetensors.js';
import { drawnNoise, randomDistributionParams } from '../support/distribution-params.js';
import { maxNormalisedError, safeTensor, torchAvailable } from '../support/pytorch-helpers.js';

const TOLERANCE = 1e-4;
const N = 32;
const torch = torchAvailable();
const net = mlp({ hidden: [8], activation: 'tanh' });
const ar = made({ hidden: [12], activation: 'tanh' });

interface Case {
  readonly name: string;
  readonly dist: DistributionSpec;
  readonly cond?: { readonly [name: string]: Shape };
  readonly seed: number;
}

/** Flows over [d]: an NSF-like and a RealNVP-like chain, and a conditional MAF. */
const nsf = (d: number) => chain(actnorm([d]), splineCoupling([d], { net, bins: 4, bound: 3 }), reverse([d]), splineCoupling([d], { net, bins: 4, bound: 3 }));
const realNvp = (d: number) => chain(affineCoupling([d], { net }), reverse([d]), affineCoupling([d], { net }));
const condMaf = (d: number) => chain(maskedAutoregressive([d], { net: ar, cond: { c: [2] } }), reverse([d]));

// Generated sizes: event dimension 2..4, mixture components 1..3, parameter seeds.
const sizes = fc.sample(fc.record({ d: fc.integer({ min: 2, max: 4 }), k: fc.integer({ min: 1, max: 3 }), seed: fc.integer({ min: 1, max: 1000 }) }), { seed: 20261208, numRuns: 3 });
const cases: Case[] = sizes.flatMap(({ d, k, seed }, i): Case[] => [
  { name: `standardized NSF on a Student-t [${d}]`, dist: standardized(transformed(studentT([d]), nsf(d))), seed: seed + i },
  { name: `RealNVP on a ${k}-component Gaussian mixture [${d}]`, dist: transformed(gaussianMixture([d], k), realNvp(d)), seed: seed + 10 * i },
  { name: `conditional MAF on a learnt diagonal normal [${d}]`, dist: transformed(diagonalNormal([d]), condMaf(d)), cond: { c: [2] }, seed: seed + 20 * i },
]);
cases.push({ name: 'standardized factor-out on two standard normals', dist: standardized(transformed(standardNormals([[2], [2]]), factorOut([4], chain(affineCoupling([2], { net }), reverse([2]))))), seed: 7 });

const driver = `
import importlib.util, json, sys
import torch
torch.set_num_threads(1)
torch.manual_seed(0)
for case in json.loads(sys.argv[1]):
    spec = importlib.util.spec_from_file_location('dist_' + str(abs(hash(case['dir']))), case['dir'] + '/model.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    dist = mod.Distribution()
    mod.load_params(dist, case['dir'] + '/model.safetensors')
    tensors, _ = mod.read_safetensors(case['dir'] + '/inputs.safetensors')
    xs = [tensors[f'x.{i}'] for i in range(case['xs'])]
    noise = [tensors[f'noise.{i}'] for i in range(case['noise'])]
    ctx = {name: tensors['ctx.' + name] for name in case['ctx']}
    with torch.no_grad():
        log_p = dist.log_prob(xs, ctx)
        drawn, drawn_log_p = dist.sample_from_noise(noise, ctx)
        own = dist.sample(case['n'], ctx or None)
    own = own if isinstance(own, list) else [own]
    # Trainable as an nn.Module: the NLL's gradient reaches every parameter, finite.
    dist.zero_grad()
    (-dist.log_prob(xs, ctx).mean()).backward()
    params = list(dist.parameters())
    finite = all(q.grad is not None and bool(torch.isfinite(q.grad).all()) for q in params)
    out = {'log_p': log_p, 'sample.log_p': drawn_log_p, 'grads_finite': torch.tensor([1.0 if finite else 0.0]), 'trainable': torch.tensor([float(sum(q.numel() for q in params))])}
    out.update({f'sample.{i}': t for i, t in enumerate(drawn)})
    out.update({f'own.{i}': t.contiguous() for i, t in enumerate(own)})
    mod.write_safetensors(case['dir'] + '/out.safetensors', out)
`;

const worst: Record<string, { error: number; where: string }> = {};
afterAll(() => console.log(`pytorch vs tfjs distributions, worst normalised errors: ${JSON.stringify(worst)}`));
afterEach(() => expect(tf.memory().numTensors).toBe(0));

describe.skipIf(!torch.ok)(`distributionToPyTorch agrees with tfjs${torch.ok ? '' : ` (skipped: ${torch.note})`}`, () => {
  it('log_prob, sample_from_noise, sample and gradients, for every base kind under flows (generated sizes, random parameters)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'typed-flows-pytorch-dist-'));
    const expected: Array<{ logProb: Float32Array; xs: Float32Array[]; sampleLogProb: Float32Array; events: readonly Shape[]; trainable: number }> = [];
    const described = [];
    for (const [i, c] of cases.entries()) {
      const dir = join(root, `case${i}`);
      mkdirSync(dir);
      const params = randomDistributionParams(c.dist, c.seed);
      const ctx = Object.fromEntries(Object.entries(c.cond ?? {}).map(([k, s], j) => [k, tf.randomNormal(tensorShape(s, N), 0, 1, 'float32', c.seed + 50 + j)]));
      const noise = drawnNoise(c.dist, params, N, c.seed);
      const drawn = sampleAndLogProb(c.dist as AnyDistribution, params)(N, { seed: c.seed, ctx });
      const density = logProb(c.dist as AnyDistribution, params)(drawn.xs, ctx);
      const read = (t: tf.Tensor) => Float32Array.from(t.dataSync());
      const trainable = distributionParamInfo(c.dist)
        .filter((p) => p.trainable)
        .reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
      expected.push({ logProb: read(density), xs: drawn.xs.map(read), sampleLogProb: read(drawn.logProb), events: distributionSignature(c.dist).event, trainable });
      writeFileSync(join(dir, 'model.py'), distributionToPyTorch(c.dist));
      writeFileSync(join(dir, 'model.safetensors'), await encodeDistributionModel({ dist: c.dist, params }));
      const named: Array<[string, SafeTensor]> = [
        ...drawn.xs.map((t, j): [string, SafeTensor] => [`x.${j}`, safeTensor(t)]),
        ...noise.tensors.map((t, j): [string, SafeTensor] => [`noise.${j}`, safeTensor(t)]),
        ...Object.entries(ctx).map(([k, t]): [string, SafeTensor] => [`ctx.${k}`, safeTensor(t)]),
      ];
      writeFileSync(join(dir, 'inputs.safetensors'), encodeSafetensors(named));
      described.push({ dir, xs: drawn.xs.length, noise: noise.tensors.length, ctx: Object.keys(ctx), n: N });
      tf.dispose([...noise.tensors, ...drawn.xs, drawn.logProb, density, ...Object.values(ctx)]);
      disposeParams(params);
    }
    const r = spawnSync(SYSTEM_PYTHON, ['-c', driver, JSON.stringify(described)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(r.status, `the PyTorch driver failed (cases in ${root}):\n${r.stderr}`).toBe(0);
    const failures: string[] = [];
    described.forEach((d, i) => {
      const want = expected[i]!;
      const name = cases[i]!.name;
      const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(join(d.dir, 'out.safetensors'))));
      const got = (key: string): Float32Array => (tensors.get(key)?.data as Float32Array | undefined) ?? new Float32Array(0);
      const errors: Record<string, number> = {
        'log_prob': maxNormalisedError(got('log_p'), want.logProb),
        'sample_from_noise x': Math.max(...want.xs.map((x, j) => maxNormalisedError(got(`sample.${j}`), x))),
        'sample_from_noise log p': maxNormalisedError(got('sample.log_p'), want.sampleLogProb),
      };
      for (const [what, e] of Object.entries(errors)) {
        if (!(e <= (worst[what]?.error ?? -1))) worst[what] = { error: e, where: name };
        if (!(e <= TOLERANCE)) failures.push(`${name}: ${what} error ${e}`);
      }
      if (got('trainable')[0] !== want.trainable) failures.push(`${name}: ${got('trainable')[0]} parameters in torch, ${want.trainable} trainable in typed-flows`);
      if (got('grads_finite')[0] !== 1) failures.push(`${name}: a parameter has no finite gradient`);
      // Torch's own draws: n rows of each event tensor, all finite.
      want.events.forEach((s, j) => {
        const own = got(`own.${j}`);
        const size = tensorShape(s, N).reduce((a, b) => a * b, 1);
        if (own.length !== size || !own.every(Number.isFinite)) failures.push(`${name}: sample(${N}) event ${j} has ${own.length} values (want ${size}), finite: ${own.every(Number.isFinite)}`);
      });
    });
    expect(failures, failures.join('\n')).toEqual([]);
  }, 120_000);
});

describe.skipIf(!torch.ok)('typed-flows export --model --format pytorch', () => {
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'cpu' } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('writes model.py and model.safetensors that give the model file\'s log p; an earlier export is replaced only with --force', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-export-pytorch-dist-'));
    const dist = standardized(transformed(gaussianMixture([3], 2), nsf(3)));
    const params = randomDistributionParams(dist, 5);
    const modelFile = join(tmp, 'model.safetensors');
    writeFileSync(modelFile, await encodeDistributionModel({ dist, params, step: 12 }));
    const x = tf.randomNormal([N, 3], 0, 2, 'float32', 3);
    const want = logProb(dist as AnyDistribution, params)(x);
    const out = join(tmp, 'torch');
    try {
      const e = cli('export', '--model', modelFile, '--format', 'pytorch', '--output', out);
      expect(e.code, e.err).toBe(0);
      expect(e.out).toMatch(/the distribution fitted in '.*model\.safetensors', PyTorch code \(model\.py, model\.safetensors\) \(parameters of step 12\)/);
      writeFileSync(join(tmp, 'x.safetensors'), encodeSafetensors([['x', safeTensor(x)]]));
      const script = 'import sys, torch; sys.path.insert(0, sys.argv[1]); import model; d = model.Distribution(); model.load_params(d, sys.argv[1] + "/model.safetensors"); t, _ = model.read_safetensors(sys.argv[2]); model.write_safetensors(sys.argv[3], {"log_p": d.log_prob(t["x"]).detach()})';
      const r = spawnSync(SYSTEM_PYTHON, ['-c', script, out, join(tmp, 'x.safetensors'), join(tmp, 'out.safetensors')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const got = decodeSafetensors(new Uint8Array(readFileSync(join(tmp, 'out.safetensors')))).tensors.get('log_p')?.data as Float32Array;
      expect(maxNormalisedError(got, Float32Array.from(want.dataSync()))).toBeLessThan(TOLERANCE);
      const again = cli('export', '--model', modelFile, '--format', 'pytorch', '--output', out);
      expect(again.code).toBe(2);
      expect(again.err).toContain('Pass --force to replace it');
      expect(cli('export', '--model', modelFile, '--format', 'pytorch', '--output', out, '--force').code).toBe(0);
      const direction = cli('export', '--model', modelFile, '--format', 'pytorch', '--direction', 'sample', '--output', join(tmp, 'other'));
      expect(direction.code).toBe(2);
      expect(direction.err).toContain('--direction applies to --format onnx only');
    } finally {
      tf.dispose([x, want]);
      disposeParams(params);
    }
  }, 120_000);
});
