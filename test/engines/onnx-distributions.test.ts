/**
 * distributionToOnnx on onnxruntime-node against the tfjs interpreters, for fitted-style distributions
 * over vectors (MAF, NSF, RealNVP-style, a multi-output flow, a nested IAF, a conditional MAF, Gaussian-mixture
 * and Student-t bases) with
 * perturbed, non-trivial parameters and a few seeds each:
 *
 * - 'logProb' on the tfjs draws equals `logProb`;
 * - 'sample' fed the very noise `sampleAndLogProb` draws (its seed stream, regenerated here by the same
 *   drawNoise) gives the same draws and log p; for a Gaussian-mixture base that noise includes the
 *   one-hot component choice, for a Student-t base the gamma precisions;
 * - `typed-flows fit` then `export --model ... --format onnx` writes files that do the same, and the
 *   export's option mistakes are usage errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { checkModelExport, exportDistributionCommand } from '../../src/cli/commands/export-distribution.js';
import { UsageError } from '../../src/cli/io.js';
import { encodeSpec } from '../../src/dsl/codec.js';
import { distributionToOnnx } from '../../src/distributions/onnx.js';
import { randomDistributionParams as paramsOf, drawnNoise as noiseOf } from '../support/distribution-params.js';
import {
  decodeDistributionModel,
  diagonalNormal,
  gaussianMixture,
  initDistribution,
  logProb,
  sampleAndLogProb,
  standardNormal,
  standardNormals,
  standardized,
  studentT,
  transformed,
  type AnyDistribution,
  type DistributionSpec,
} from '../../src/distributions/index.js';
import {
  actnorm,
  affineCoupling,
  chain,
  factorOut,
  inverseAutoregressive,
  made,
  maskedAutoregressive,
  mlp,
  reverse,
  splineCoupling,
} from '../../src/dsl/index.js';
import { disposeParams, type ParamTree } from '../../src/dsl/params.js';
import { tensorShape, type Shape } from '../../src/dsl/shape.js';
import { absoluteError, normalisedError, runOnnx } from '../support/onnx-helpers.js';
import type { FloatArray } from '../../src/node/onnx-runtime.js';

const net = mlp({ hidden: [8, 8], activation: 'tanh' });
const ar = made({ hidden: [12, 12], activation: 'tanh' });
const D = 4;
const N = 64;
const SEEDS = [1, 2, 3];

/**
 * Both runtimes evaluate the same float32 formulas in other orders with other exp/log/softplus
 * implementations; test/engines/onnx-flows.test.ts bounds each layer's outputs and log-det at 1e-4
 * (normalised, |onnx - tfjs| / (1 + |tfjs|)). A distribution adds one base log-density (a sum of D
 * squares, the constants folded in float64) to at most a handful of layers, so the same bound holds;
 * the worst case measured is printed. A wrong sign or formula gives errors of order 0.1-1.
 */
const TOL = 1e-4;

const mafFlow = chain(maskedAutoregressive([D], { net: ar }), reverse([D]), maskedAutoregressive([D], { net: ar, transformer: 'spline', bins: 4, bound: 3 }));
const nsfFlow = chain(actnorm([D]), splineCoupling([D], { net, bins: 5, bound: 3 }), reverse([D]), splineCoupling([D], { net, bins: 5, bound: 3 }));
const realNvpFlow = chain(affineCoupling([D], { net }), reverse([D]), affineCoupling([D], { net }), actnorm([D]));
const multiFlow = factorOut([4], chain(affineCoupling([2], { net }), maskedAutoregressive([2], { net: ar })));
const iafFlow = chain(inverseAutoregressive([D], { net: ar }), reverse([D]));
const realNvp3 = chain(affineCoupling([3], { net }), reverse([3]));
const condFlow = chain(maskedAutoregressive([D], { net: ar, cond: { ctx: [3] } }), reverse([D]), affineCoupling([D], { net, cond: { ctx: [3] } }));

interface Case {
  readonly name: string;
  readonly dist: DistributionSpec;
  /** Context shapes (event), for a conditional distribution. */
  readonly cond?: { readonly [name: string]: Shape };
}

const cases: Case[] = [
  { name: 'MAF (affine + spline) on a standard normal', dist: transformed(standardNormal([D]), mafFlow) },
  { name: 'NSF (spline couplings) on a standard normal', dist: transformed(standardNormal([D]), nsfFlow) },
  { name: 'RealNVP-style (affine couplings) on a learnt diagonal normal', dist: transformed(diagonalNormal([D]), realNvpFlow) },
  { name: 'a multi-output flow (factorOut) on two standard normals', dist: transformed(standardNormals([[D / 2], [D / 2]]), multiFlow) },
  { name: 'nested: RealNVP over an IAF over a standard normal', dist: transformed(transformed(standardNormal([D]), iafFlow), realNvpFlow) },
  { name: 'a conditional MAF + coupling', dist: transformed(standardNormal([D]), condFlow), cond: { ctx: [3] } },
  { name: 'standardized NSF (frozen location and scale)', dist: standardized(transformed(standardNormal([D]), nsfFlow)) },
  { name: 'RealNVP-style on a 3-component Gaussian mixture', dist: transformed(gaussianMixture([D], 3), realNvpFlow) },
  { name: 'a 1-component Gaussian mixture alone', dist: gaussianMixture([D], 1) },
  { name: 'standardized NSF on a Student-t (learnt tails)', dist: standardized(transformed(studentT([D]), nsfFlow)) },
  { name: 'a conditional MAF on a Student-t', dist: transformed(studentT([D]), condFlow), cond: { ctx: [3] } },
];

const named = (stem: string, ts: readonly tf.Tensor[]): { [name: string]: tf.Tensor } =>
  Object.fromEntries(ts.map((t, i) => [ts.length === 1 ? stem : `${stem}${i}`, t]));

/** The worst normalised error per output ('sample x', 'sample logp', 'logProb'), with where it was and its absolute error. */
const worst = new Map<string, { value: number; abs: number; where: string }>();
const record = (what: string, got: FloatArray | undefined, want: tf.Tensor, where: string): number => {
  const value = normalisedError(got, want);
  if (value >= (worst.get(what)?.value ?? -1)) worst.set(what, { value, abs: absoluteError(got, want), where });
  return value;
};

afterEach(() => expect(tf.memory().numTensors).toBe(0));

describe('distributionToOnnx matches the tfjs interpreters', () => {
  it.each(cases)('$name', async ({ name, dist, cond }) => {
    for (const seed of SEEDS) {
      const params = paramsOf(dist, seed);
      const ctx = Object.fromEntries(Object.entries(cond ?? {}).map(([k, s], i) => [k, tf.randomNormal(tensorShape(s, N), 0, 1, 'float32', seed + 50 + i)]));
      const noise = noiseOf(dist, params, N, seed);
      const drawn = sampleAndLogProb(dist as AnyDistribution, params)(N, { seed, ctx });
      const density = logProb(dist as AnyDistribution, params)(drawn.xs, ctx);
      try {
        // Non-trivial: the draws are far from the normal noise they came from.
        const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.concat(drawn.xs.map((x) => x.reshape([N, -1])), 1), tf.concat(noise.normal.map((z) => z.reshape([N, -1])), 1)))).dataSync()[0] as number);
        expect(moved, 'the flow moves its noise').toBeGreaterThan(0.1);

        const s = await runOnnx(distributionToOnnx(dist, params, { graph: 'sample' }), { ...noise.inputs, ...ctx });
        drawn.xs.forEach((x, i) => expect(record('sample x', s[drawn.xs.length === 1 ? 'x' : `x${i}`], x, `${name}, seed ${seed}`)).toBeLessThan(TOL));
        expect(record('sample logp', s['logp'], drawn.logProb, `${name}, seed ${seed}`)).toBeLessThan(TOL);

        const l = await runOnnx(distributionToOnnx(dist, params, { graph: 'logProb' }), { ...named('x', drawn.xs), ...ctx });
        expect(record('logProb', l['logp'], density, `${name}, seed ${seed}`)).toBeLessThan(TOL);
      } finally {
        tf.dispose([...noise.tensors, ...drawn.xs, drawn.logProb, density, ...Object.values(ctx)]);
        disposeParams(params);
      }
    }
  });
});

describe("the sampling graph's noise inputs", () => {
  it('are named after the base, with their laws and the laws\' parameters at export in the metadata', () => {
    const softplus = (v: number) => Math.log1p(Math.exp(v));
    for (const dist of [transformed(gaussianMixture([3], 4), realNvp3), standardized(studentT([3]))] as DistributionSpec[]) {
      const params = paramsOf(dist, 4);
      try {
        const model = onnxProto.onnx.ModelProto.decode(distributionToOnnx(dist, params, { graph: 'sample' }));
        const inputs = (model.graph?.input ?? []).map((i) => i.name);
        const laws = JSON.parse(model.metadataProps?.find((p) => p.key === 'noise')?.value ?? '[]') as Array<{ input: string; law: string; probabilities?: number[]; concentration?: number[]; rate?: number[] }>;
        expect(laws.map((l) => l.input)).toEqual(inputs);
        const base = (params as { base: ParamTree }).base as { [k: string]: tf.Tensor };
        if (dist.kind === 'transformed') {
          expect(inputs).toEqual(['component', 'noise']);
          const logits = Array.from(base['logits']!.dataSync());
          const z = logits.reduce((a, l) => a + Math.exp(l), 0);
          laws[0]!.probabilities!.forEach((p, k) => expect(p).toBeCloseTo(Math.exp(logits[k]!) / z, 6));
          expect(laws[1]!.law).toBe('standard normal');
        } else {
          expect(inputs).toEqual(['noise', 'precision']);
          const rawDf = Array.from(base['rawDf']!.dataSync());
          laws[1]!.concentration!.forEach((c, i) => expect(c).toBeCloseTo((0.5 + softplus(rawDf[i]!)) / 2, 5));
          expect(laws[1]!.rate).toEqual(laws[1]!.concentration);
        }
      } finally {
        disposeParams(params);
      }
    }
  });
});

describe('typed-flows export --model (a fitted distribution)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-onnx-dist-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['bin/typed-flows.js', ...args], { encoding: 'utf8', env: { ...process.env, TYPED_FLOWS_BACKEND: 'cpu' } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  // 200 rows of a bent 2-D cloud (deterministic), a MAF and a spline coupling fitted for 30 steps.
  const rows = Array.from({ length: 200 }, (_, i) => {
    const a = Math.sin(i * 12.9898) * 2;
    const b = Math.cos(i * 78.233);
    return [a, 0.5 * a * a + 0.3 * b];
  });
  const flow = chain(actnorm([2]), maskedAutoregressive([2], { net: ar }), reverse([2]), splineCoupling([2], { net, bins: 4, bound: 4 }));

  it('fit, then export --format onnx --direction logprob and sample: the files give the model\'s logProb and draws', async () => {
    const data = join(tmp, 'points.json');
    writeFileSync(data, JSON.stringify(rows));
    writeFileSync(join(tmp, 'flow.json'), encodeSpec(flow));
    const out = join(tmp, 'fit');
    const f = cli('fit', '--flow', join(tmp, 'flow.json'), '--data', data, '--steps', '30', '--eval-every', '10', '--output', out, '--quiet');
    expect(f.code, f.err).toBe(0);
    const modelFile = join(out, 'model.safetensors');
    const lpFile = join(tmp, 'logprob.onnx');
    const spFile = join(tmp, 'sample.onnx');
    const e1 = cli('export', '--model', modelFile, '--format', 'onnx', '--direction', 'logprob', '--output', lpFile);
    expect(e1.code, e1.err).toBe(0);
    expect(e1.out).toMatch(/the distribution fitted in '.*model\.safetensors', ONNX logprob graph \(parameters of step 30\)/);
    const e2 = cli('export', '--model', modelFile, '--format', 'onnx', '--direction', 'sample', '--output', spFile);
    expect(e2.code, e2.err).toBe(0);

    const model = decodeDistributionModel(new Uint8Array(readFileSync(modelFile)));
    const x = tf.tensor2d(rows);
    const want = logProb(model.dist, model.params)(x);
    const noise = noiseOf(model.dist, model.params, 50, 9);
    const drawn = sampleAndLogProb(model.dist, model.params)(50, { seed: 9 });
    try {
      const l = await runOnnx(new Uint8Array(readFileSync(lpFile)), { x });
      expect(record('logProb', l['logp'], want, 'fitted by the CLI')).toBeLessThan(TOL);
      const s = await runOnnx(new Uint8Array(readFileSync(spFile)), noise.inputs);
      expect(record('sample x', s['x'], drawn.x, 'fitted by the CLI')).toBeLessThan(TOL);
      expect(record('sample logp', s['logp'], drawn.logProb, 'fitted by the CLI')).toBeLessThan(TOL);
    } finally {
      tf.dispose([x, want, ...noise.tensors, ...drawn.xs, drawn.logProb]);
      disposeParams(model.params);
    }
  });

  it('usage errors exit 2 and say what to fix', async () => {
    const neither = cli('export', '--format', 'onnx', '--output', join(tmp, 'x.onnx'));
    expect(neither.code).toBe(2);
    expect(neither.err).toContain('give exactly one of --name <run> (a CAFLOW run) or --model <model.safetensors>');
    const both = cli('export', '--name', 'tiny', '--model', 'm.safetensors', '--format', 'onnx', '--output', join(tmp, 'x.onnx'));
    expect(both.code).toBe(2);
    expect(both.err).toContain('give exactly one of --name');
    await expect(exportDistributionCommand(join(tmp, 'missing.safetensors'), join(tmp, 'x.onnx'))).rejects.toThrow(/the model file '.*missing.safetensors' does not exist/);
    const base = { model: 'm.safetensors', output: 'm.onnx' };
    expect(() => checkModelExport({ ...base, format: 'safetensors' })).toThrow(/--model exports a fitted distribution as ONNX \(--format onnx\) or as PyTorch code \(--format pytorch\)/);
    expect(() => checkModelExport({ ...base, format: 'pytorch', direction: 'logprob' })).toThrow(/--direction applies to --format onnx only/);
    expect(checkModelExport({ ...base, format: 'pytorch' })).toEqual({ format: 'pytorch' });
    expect(() => checkModelExport({ ...base, format: 'onnx', direction: 'likelihood' })).toThrow(/with --model, --direction is logprob or sample \(got 'likelihood'/);
    expect(() => checkModelExport({ ...base, format: 'onnx', k: 4 })).toThrow(UsageError);
    expect(() => checkModelExport({ ...base, format: 'onnx', output: './m.safetensors' })).toThrow(/is the model file itself/);
    expect(checkModelExport({ ...base, format: 'onnx' })).toEqual({ format: 'onnx', direction: 'sample' });
    expect(checkModelExport({ ...base, format: 'onnx', direction: 'logprob' })).toEqual({ format: 'onnx', direction: 'logprob' });
  });
});

afterAll(() => {
  for (const [what, w] of worst) console.log(`${what}: worst normalised error ${w.value.toExponential(1)} (absolute ${w.abs.toExponential(1)}), ${w.where}`);
});
