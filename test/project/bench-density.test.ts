/**
 * The density benchmark compares like with like: bench/pytorch/density.py's MAF and NSF, given
 * typed-flows' parameters, compute the same log p (skipped where PyTorch is not installed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { densityFlow } from '../../bench/density.js';
import { SYSTEM_PYTHON } from '../../bench/pytorch.js';
import { logProbRaw, standardNormal, transformed } from '../../src/distributions/index.js';
import { disposeParams, flattenParams } from '../../src/dsl/params.js';
import { perturbedParams } from '../../src/interpreters/index.js';

const hasTorch = spawnSync(SYSTEM_PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-bench-density-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Points inside and outside the spline's [-4, 4] (identity tails there).
const x = [[0.3, -1.2, 0.5], [2.5, 0.1, -3.9], [-4.5, 1.0, 0.2], [0.0, 0.0, 5.1]];

describe('bench/pytorch/density.py', () => {
  it.skipIf(!hasTorch).each(['MAF', 'NSF'] as const)('%s: the same log p as typed-flows for the same parameters', (name) => {
    const architecture = { layers: 3, hidden: [8, 8], clamp: 2, bins: 4, bound: 4 };
    const flow = densityFlow(3, name, architecture);
    const params = perturbedParams(flow, 7, 0.5); // not the identity: every network is non-zero
    const lp = logProbRaw(transformed(standardNormal([3]), flow), { flow: params, base: {} }, [tf.tensor2d(x)]);
    const expected = Array.from(lp.dataSync());
    const file = join(tmp, `${name}.json`);
    writeFileSync(file, JSON.stringify({ flow: name, x, ...architecture, params: Object.fromEntries(flattenParams(params).map(([p, t]) => [p, t.arraySync()])) }));
    lp.dispose();
    disposeParams(params);
    const r = spawnSync(SYSTEM_PYTHON, ['bench/pytorch/density.py', JSON.stringify({ check: file })], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as number[];
    expect(got).toHaveLength(4);
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 3));
    expect(new Set(expected.map((v) => v.toFixed(2))).size).toBe(4); // distinct values, not a constant
  }, 30_000);
});
