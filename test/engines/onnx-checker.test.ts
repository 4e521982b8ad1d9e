/**
 * The exported models pass the ONNX checker (Debian's python3-onnx under /usr/bin/python3) with
 * full_check, which also runs strict shape inference: every primitive row of the property table alone
 * in both directions, the multi-tensor flows, CAFLOW's four graphs, a distribution's two graphs and
 * models holding every op of the algebra's ONNX engine (test/support/onnx-op-rows.ts). python3-onnx is
 * installed with apt-get when it is missing; the test is skipped, with the reason, only when that fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { caflowConfig, caflowSpec, type CaflowParams } from '../../src/caflow/index.js';
import { caflowDirections, caflowToOnnx } from '../../src/caflow/onnx.js';
import { chain, concat, factorOut, actnorm, affineCoupling, mlp, split, type AnyFlow } from '../../src/dsl/index.js';
import { disposeParams, perturbedParams, type ParamTree } from '../../src/interpreters/index.js';
import { toOnnx } from '../../src/interpreters/onnx/index.js';
import { diagonalNormal, gaussianMixture, standardized, standardNormals, studentT, transformed, type DistributionSpec } from '../../src/distributions/index.js';
import { distributionGraphs, distributionToOnnx } from '../../src/distributions/onnx.js';
import { primitiveMakers } from '../support/arbitraries.js';
import { caseArb, opsModel, rowsFor, tfjsResults } from '../support/onnx-op-rows.js';

const PYTHON = '/usr/bin/python3';

const onnxVersion = (): string | undefined => {
  const r = spawnSync(PYTHON, ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

/** The checker's version, installing python3-onnx when it is missing; or why it is unavailable. */
const ensureChecker = (): { version?: string; reason?: string } => {
  const before = onnxVersion();
  if (before !== undefined) return { version: before };
  const sudo = process.getuid?.() === 0 ? '' : 'sudo -n ';
  const r = spawnSync('sh', ['-c', `${sudo}apt-get update -qq && ${sudo}apt-get install -y -qq python3-onnx`], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 300_000,
  });
  const after = onnxVersion();
  if (after !== undefined) return { version: after };
  return { reason: `python3-onnx is not importable under ${PYTHON} and 'apt-get install -y python3-onnx' failed (exit ${r.status}: ${(r.stderr ?? '').trim().slice(-300)})` };
};

const dir = mkdtempSync(join(tmpdir(), 'typed-flows-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const models: string[] = [];
const write = (name: string, bytes: Uint8Array): void => {
  const file = join(dir, `${models.length}-${name.replace(/[^\w+-]+/g, '_')}.onnx`);
  writeFileSync(file, bytes);
  models.push(file);
};

const exportBoth = (name: string, flow: AnyFlow, seed: number): void => {
  const params = perturbedParams(flow, seed, 0.2);
  write(`${name}-forward`, toOnnx(flow, params, { direction: 'forward' }));
  write(`${name}-inverse`, toOnnx(flow, params, { direction: 'inverse' }));
  disposeParams(params);
};

const CHECK = `
import json, sys, onnx
results = {}
for f in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(f), full_check=True)
        results[f] = 'ok'
    except Exception as e:
        results[f] = str(e)[:500]
print(json.dumps(results))
`;

describe('the ONNX checker', () => {
  it('accepts every exported model (full_check, opset 17)', (ctx) => {
    const checker = ensureChecker();
    if (checker.version === undefined) {
      console.warn(`skipped: ${checker.reason}`);
      ctx.skip(checker.reason);
    }
    primitiveMakers([4, 4, 4]).forEach((m, i) => exportBoth(`image-${m.name}`, m.make([4, 4, 4]), i));
    primitiveMakers([4]).forEach((m, i) => exportBoth(`vector-${m.name}`, m.make([4]), i));
    exportBoth('split-concat', chain(split([4, 2, 2]), concat([2, 2, 2], [2, 2, 2])), 1);
    exportBoth('factorOut', factorOut([6], chain(actnorm([3]), affineCoupling([3], { net: mlp({ hidden: [4] }), cond: { k: [2] } }))), 2);
    const m = caflowSpec(caflowConfig({ target: [2, 8, 8], condition: [1, 8, 8], scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 4, conditionalHidden: 4 }));
    const params: CaflowParams = { R: perturbedParams(m.encoderY, 1, 0.2), T: perturbedParams(m.encoderW, 2, 0.2), G: m.priors.map((p, i) => perturbedParams(p, 3 + i, 0.2)) };
    for (const direction of caflowDirections) write(`caflow-${direction}`, caflowToOnnx(m, params, { direction, k: 4 }));
    [params.R, params.T, ...params.G].forEach((p) => disposeParams(p as ParamTree));
    // Distributions: several standard-normal factors, a learnt diagonal normal base, a Gaussian-mixture and a Student-t base.
    const multi = factorOut([4], chain(actnorm([2]), affineCoupling([2], { net: mlp({ hidden: [4] }) })));
    const coupled = chain(actnorm([4]), affineCoupling([4], { net: mlp({ hidden: [4] }) }));
    const dists: Array<{ dist: DistributionSpec; params: ParamTree }> = [
      { dist: transformed(standardNormals([[2], [2]]), multi), params: { base: {}, flow: perturbedParams(multi, 5, 0.2) } },
      { dist: transformed(diagonalNormal([4]), coupled), params: { base: [{ mean: tf.fill([4], 0.3), logStd: tf.fill([4], -0.2) }], flow: perturbedParams(coupled, 6, 0.2) } },
      { dist: transformed(gaussianMixture([4], 3), coupled), params: { base: { logits: tf.tensor1d([0.1, -0.4, 0.3]), means: tf.randomNormal([3, 4], 0, 1, 'float32', 8), precisionFactor: tf.randomNormal([3, 4, 4], 0, 0.3, 'float32', 9) }, flow: perturbedParams(coupled, 7, 0.2) } },
      { dist: standardized(studentT([4])), params: { events: [{ location: tf.fill([4], 0.5), scale: tf.fill([4], 2) }], base: { location: tf.fill([4], 0.1), logScale: tf.fill([4], -0.3), rawDf: tf.fill([4], 1.2) } } },
    ];
    dists.forEach(({ dist, params: p }, i) => {
      for (const graph of distributionGraphs) write(`distribution${i}-${graph}`, distributionToOnnx(dist, p, { graph }));
      disposeParams(p);
    });
    // Every op of the ONNX engine of the algebra, on an image and a vector case.
    for (const shape of [[2, 3, 3, 4], [3, 5]]) {
      const [k] = fc.sample(caseArb(fc.constant(shape)), { numRuns: 1, seed: 7 });
      const rows = rowsFor(k!);
      write(`algebra-ops-${shape.length}d`, opsModel(k!, rows, tfjsResults(k!, rows).map((w) => w.shape)));
    }

    const r = spawnSync(PYTHON, ['-c', CHECK, ...models], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Record<string, string>;
    expect(Object.keys(results)).toHaveLength(models.length);
    const failures = Object.entries(results).filter(([, v]) => v !== 'ok');
    expect(failures).toEqual([]);
    console.log(`onnx ${checker.version}: ${models.length} models pass check_model(full_check=True)`);
  });
});
