/**
 * The generated PyTorch modules compute what the tfjs interpreters compute: every bijector kind alone
 * (image and vector events, with conditioning where the kind takes it) and random compositions from the
 * property-test generators, with random non-trivial parameters (initialised on data, then perturbed:
 * a fresh coupling is the identity and would hide a sign error). Forward outputs and log-dets at x,
 * inverse outputs and log-dets at typed-flows' y = f(x), all cases in one Python process.
 *
 * Tolerance: max |torch - tfjs| / (1 + |tfjs|) <= 1e-4 for outputs and log-dets. Both sides compute the
 * same float32 maths (determinants and inverses in float64 on both sides), differing only in the
 * order of summations inside convolutions, matrix products and reductions: a few ulps (6e-8) per op,
 * amplified by at most exp(clamp) = e^2 per affine layer and added over the layers of a case (up to
 * ~15 here), so about 1e-5 in the worst case; the verify tolerances use the same 1e-4 budget. A wrong
 * formula, layout or parameter name gives errors of order 1e-2 and above.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { actnorm, chainOf, concat, identity, inv1x1, inv1x1LU, invert, logit, parallel, repeat, split, type AnyFlow, type Shape } from '../../src/dsl/index.js';
import { disposeParams, domains, forward, inverse, sampleInputs, signature } from '../../src/interpreters/index.js';
import { dataPerturbedParams } from '../../src/interpreters/verify.js';
import { seededNormal } from '../../src/interpreters/seeded-normal.js';
import { tensorShape } from '../../src/dsl/shape.js';
import { primitiveKinds } from '../../src/dsl/registry.js';
import { flowArb, primitiveMakers } from '../support/arbitraries.js';
import { maxNormalisedError, runTorchCases, torchAvailable, type TorchCase } from '../support/pytorch-helpers.js';
import { SYSTEM_PYTHON } from '../../bench/pytorch.js';
import { toPyTorch } from '../../src/interpreters/pytorch/index.js';
import { encodeSafetensors, type SafeTensor } from '../../src/io/safetensors.js';

const TOLERANCE = 1e-4;
const torch = torchAvailable();

interface Built {
  readonly name: string;
  readonly case: TorchCase;
  readonly expected: { forward: Float32Array[]; forwardLogDet: Float32Array; inverse: Float32Array[]; inverseLogDet: Float32Array };
}

/** A case with parameters initialised on 16 samples and perturbed (std 0.2), on a batch of 3. */
const build = (name: string, flow: AnyFlow, seed: number): Built => {
  const sig = signature(flow);
  const doms = domains(flow);
  const ctxOf = (batch: number, s: number) =>
    Object.fromEntries(Object.entries(sig.cond).map(([k, shape], i) => [k, seededNormal(tensorShape(shape as Shape, batch), 1, s + i)]));
  const initData = sampleInputs(sig.ins, doms, 16, seed + 30);
  const initCtx = ctxOf(16, seed + 130);
  const params = dataPerturbedParams(flow, initData, initCtx, seed, 0.2);
  tf.dispose([...initData, ...Object.values(initCtx)]);
  const xs = sampleInputs(sig.ins, doms, 3, seed + 7);
  const ctx = ctxOf(3, seed + 230);
  const f = forward(flow, params)(xs, ctx);
  const ys = [...f.ys] as tf.Tensor[];
  const b = inverse(flow, params)(ys, ctx);
  const read = (ts: readonly tf.Tensor[]) => ts.map((t) => Float32Array.from(t.dataSync()));
  const expected = { forward: read(ys), forwardLogDet: Float32Array.from(f.logDet.dataSync()), inverse: read([...b.xs] as tf.Tensor[]), inverseLogDet: Float32Array.from(b.logDet.dataSync()) };
  tf.dispose([f.logDet, b.logDet, ...(b.xs as tf.Tensor[])]);
  return { name, case: { flow, params, xs, ys, ctx }, expected };
};

const release = (b: Built): void => {
  disposeParams(b.case.params);
  tf.dispose([...b.case.xs, ...b.case.ys, ...Object.values(b.case.ctx)]);
};

const worst: Record<string, number> = {};
afterAll(() => console.log(`pytorch vs tfjs, worst normalised errors: ${JSON.stringify(worst)}`));

/** Runs the cases in PyTorch; every error under the tolerance, each failure named. */
const compare = (built: readonly Built[]): void => {
  const results = runTorchCases(built.map((b) => b.case));
  const failures: string[] = [];
  built.forEach((b, i) => {
    const r = results[i]!;
    const errors = {
      forward: Math.max(...b.expected.forward.map((e, j) => maxNormalisedError(r.forward[j] ?? [], e)), r.forward.length === b.expected.forward.length ? 0 : Infinity),
      forwardLogDet: maxNormalisedError(r.forwardLogDet, b.expected.forwardLogDet),
      inverse: Math.max(...b.expected.inverse.map((e, j) => maxNormalisedError(r.inverse[j] ?? [], e)), r.inverse.length === b.expected.inverse.length ? 0 : Infinity),
      inverseLogDet: maxNormalisedError(r.inverseLogDet, b.expected.inverseLogDet),
    };
    for (const [k, v] of Object.entries(errors)) {
      worst[k] = Math.max(worst[k] ?? 0, v);
      if (!(v <= TOLERANCE)) failures.push(`${b.name}: ${k} error ${v}`);
    }
  });
  built.forEach(release);
  expect(failures, failures.join('\n')).toEqual([]);
};

describe.skipIf(!torch.ok)(`PyTorch modules agree with tfjs${torch.ok ? '' : ` (skipped: ${torch.note})`}`, () => {
  it('every kind of the catalogue, on image and vector events, with conditioning', () => {
    const shapes: Shape[] = [[4, 4, 4], [3, 2, 4], [2, 2, 2], [5], [3]];
    const built = shapes.flatMap((shape, s) =>
      primitiveMakers(shape)
        .map((m, i) => build(`${m.name} on [${shape.join(',')}]`, m.make(shape), 1000 * s + 17 * i)),
    );
    // The multi-tensor kinds and the combinators: split, concat, uneven parallels (arities 1 -> 2,
    // 2 -> 1, 1 -> 1), identity, logit (its domain is (0, 256)), a repeat.
    const multi: Array<[string, AnyFlow]> = [
      [
        'split > parallel(identity, split) > parallel(concat, actnorm) > concat',
        chainOf([
          split([4, 2, 2], 1),
          parallel(identity([1, 2, 2]), split([3, 2, 2], 2)),
          parallel(concat([1, 2, 2], [2, 2, 2]), actnorm([1, 2, 2])),
          concat([3, 2, 2], [1, 2, 2]),
        ]),
      ],
      ['invert(split) on vectors', chainOf([split([5], 2), invert(split([5], 2)), identity([5])])],
      ['logit', logit([2, 2, 2])],
      ['repeat(actnorm > inv1x1LU)', repeat(chainOf([actnorm([3]), inv1x1LU([3])]), 3)],
    ];
    built.push(...multi.map(([name, flow], i) => build(name, flow, 5000 + i)));
    // Every registered kind and every combinator appears: a kind added later without a row here is caught.
    const kinds = new Set(built.flatMap((b) => JSON.stringify(b.case.flow).match(/"kind":"(\w+)"/g) ?? []).map((k) => k.slice(8, -1)));
    expect([...primitiveKinds(), 'chain', 'repeat', 'invert', 'parallel'].filter((k) => !kinds.has(k))).toEqual([]);
    compare(built);
  });

  it('random compositions (chains, repeats, inverses, logit, multiscale factor-out)', () => {
    const flows = fc.sample(flowArb(4), { seed: 20261202, numRuns: 30 });
    compare(flows.map(({ flow, names }, i) => build(names.join(' > '), flow, 7 * i + 3)));
  });
});

describe.skipIf(!torch.ok)('PyTorch load_params', () => {
  it('refuses weights that do not fit the module, naming every missing, extra and mis-shaped tensor', () => {
    const dir = mkdtempSync(join(tmpdir(), 'typed-flows-load-'));
    writeFileSync(join(dir, 'flow.py'), toPyTorch(chainOf([actnorm([2, 4, 4]), inv1x1([2, 4, 4])])));
    const f32 = (shape: number[]): SafeTensor => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    // 0.logScale missing, 1.weight mis-shaped, 2.bias extra.
    writeFileSync(join(dir, 'bad.safetensors'), encodeSafetensors([['params.0.bias', f32([2])], ['params.1.weight', f32([3, 3])], ['params.2.bias', f32([2])]]));
    const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import sys; sys.path.insert(0, sys.argv[1]); import flow; flow.load_params(flow.build_flow(), sys.argv[1] + "/bad.safetensors")', dir], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('params.0.logScale: missing (expected [2])');
    expect(r.stderr).toContain('params.1.weight: shape [3, 3], expected [2, 2]');
    expect(r.stderr).toContain('params.2.bias: not a parameter of this model');
  });
});
