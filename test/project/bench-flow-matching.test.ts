/**
 * The flow-matching benchmark compares like with like: bench/pytorch/flow_matching.py's field, read from
 * the module distributionToPyTorch exports (whose Cnf inlines its field in the solver and has no method
 * for it), gives typed-flows' field for the same parameters (skipped where PyTorch is not installed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cnfParamsOf, fieldAt, flowMatchingModel, writeExported } from '../../bench/flow-matching.js';
import { twoMoons } from '../../bench/density-data.js';
import { SYSTEM_PYTHON } from '../../bench/pytorch.js';
import { disposeParams } from '../../src/dsl/params.js';

const hasTorch = spawnSync(SYSTEM_PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'typed-flows-bench-fm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('bench/pytorch/flow_matching.py', () => {
  it.skipIf(!hasTorch)('its field is typed-flows\' field for the same (perturbed) parameters', () => {
    const before = tf.memory().numTensors;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (seed, perturbSeed, pointSeed) => {
        const rows = tf.tensor2d(twoMoons.sample(200, seed));
        const { dist, cnf, params } = flowMatchingModel(rows, seed, perturbSeed);
        rows.dispose();
        const dir = mkdtempSync(join(tmp, 'run-'));
        writeExported(dir, dist, params);
        const { x, t, v } = fieldAt(cnf, cnfParamsOf(params), 16, pointSeed);
        disposeParams(params);
        const check = { module: join(dir, 'model.py'), params: join(dir, 'params.safetensors'), x, t };
        const r = spawnSync(SYSTEM_PYTHON, ['bench/pytorch/flow_matching.py', JSON.stringify({ check })], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
        expect(r.status, r.stderr).toBe(0);
        const got = JSON.parse(r.stdout) as number[][];
        expect(got).toHaveLength(16);
        // float32 through a 3-hidden-layer tanh net of O(1) values: rounding differences are ~1e-7.
        got.forEach((row, i) => row.forEach((g, j) => expect(Math.abs(g - (v[i]?.[j] as number))).toBeLessThan(1e-5)));
        // Not a constant field: the perturbed parameters make it vary between points.
        expect(new Set(v.map((row) => (row[0] as number).toFixed(3))).size).toBeGreaterThan(8);
      }),
      { numRuns: 3 },
    );
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
