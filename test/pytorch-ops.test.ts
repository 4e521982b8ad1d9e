/**
 * The PyTorch engine of the op algebra computes what the tfjs engine computes, op by op: probes that
 * together use every op of `Ops<T>` (scalars and parameters broadcasting, stable transcendental forms,
 * masks, reductions, structure, matmul and convolution, constants, iterate) run on tfjs tensors and as
 * the Python lines the engine writes, on inputs drawn by fast-check, all in one Python process.
 *
 * Tolerance: max |torch - tfjs| / (1 + |tfjs|) <= 1e-4. Both sides compute the same float32 ops; they
 * differ by the order of summation in reductions, matmul and convolution and by the last ulp of each
 * transcendental function: a few 1e-7 per op over the <= 12 ops of a probe, so about 1e-6. A wrong
 * op (sign, axis, form) gives errors of order 1e-1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { Ops } from '../src/algebra/ops.js';
import { tfjsOps } from '../src/algebra/tfjs.js';
import { pythonOps, PythonWriter } from '../src/interpreters/pytorch/index.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../src/io/safetensors.js';
import { SYSTEM_PYTHON } from '../bench/pytorch.js';
import { maxNormalisedError, torchAvailable } from './pytorch-helpers.js';

const TOLERANCE = 1e-4;
const torch = torchAvailable();

type Inputs<T> = { readonly x: T; readonly [param: string]: T };

interface Probe {
  readonly name: string;
  /** Shapes of x (batch first) and of the parameters (no batch axis). */
  readonly shapes: { readonly x: readonly number[]; readonly [param: string]: readonly number[] };
  /** Whether x must be positive (for log, sqrt). */
  readonly positive?: boolean;
  readonly f: <T>(o: Ops<T>, v: Inputs<T>) => T;
}

const p = <T>(v: Inputs<T>, name: string): T => v[name] as T;

const PROBES: readonly Probe[] = [
  {
    name: 'arithmetic',
    shapes: { x: [3, 4, 5], a: [5], b: [4, 5] },
    f: (o, v) => {
      const y = o.div(o.sub(o.mul(v.x, p(v, 'a')), o.scalar(0.25)), o.add(o.square(p(v, 'b')), o.scalar(1)));
      return o.add(o.minimum(o.maximum(o.neg(y), o.scalar(-0.5)), o.abs(p(v, 'a'))), o.sqrt(o.add(o.abs(y), o.mul(o.scalar(2), o.scalar(0.5)))));
    },
  },
  {
    name: 'transcendental',
    shapes: { x: [3, 6] },
    f: (o, v) => {
      const x = v.x;
      const parts = [o.exp(o.mul(x, o.scalar(0.5))), o.log(o.add(o.square(x), o.scalar(1))), o.log1p(o.abs(x)), o.expm1(x), o.softplus(o.mul(x, o.scalar(20)))];
      const more = [o.logSigmoid(o.mul(x, o.scalar(-30))), o.sigmoid(x), o.tanh(x), o.atan(x), o.sinh(x), o.cosh(x), o.asinh(o.mul(x, o.scalar(-1e3))), o.relu(x), o.clip(x, -0.3, 0.7)];
      return o.concatLast([...parts, ...more]);
    },
  },
  {
    name: 'masks and where',
    shapes: { x: [4, 7], a: [7] },
    f: (o, v) => o.add(o.where(o.greaterEqual(v.x, p(v, 'a')), v.x, o.scalar(-2)), o.where(o.less(v.x, o.scalar(0)), o.exp(v.x), p(v, 'a'))),
  },
  {
    name: 'reductions',
    shapes: { x: [3, 2, 2, 5], a: [2, 3] },
    f: (o, v) => {
      const perSample = o.add(o.sumEvent(v.x), o.perSample(v.x, o.sumAll(p(v, 'a'))));
      const last = o.sumLast(o.softmaxLast(v.x));
      const cum = o.cumsumLast(v.x);
      return o.concatLast([o.reshape(cum, [20]), o.reshape(last, [4]), o.reshape(perSample, [1]), o.reshape(o.perSample(v.x, o.scalar(1.5)), [1])]);
    },
  },
  {
    name: 'structure',
    shapes: { x: [2, 3, 4, 6] },
    f: (o, v) => {
      const [a, empty, b] = o.splitLast(v.x, [2, 0, 4]) as [T0, T0, T0];
      type T0 = Parameters<typeof o.neg>[0];
      const moved = o.transpose(o.concatLast([b, empty, o.sliceLast(a, 1, 1)]), [0, 2, 1, 3]);
      return o.gatherLast(o.reshape(moved, [60]), [59, 0, 7, 7, 33]);
    },
  },
  {
    name: 'matmul and conv2d',
    shapes: { x: [2, 4, 4, 3], w: [3, 5], k: [3, 3, 5, 2], bias: [2] },
    f: (o, v) => o.conv2d(o.matmul(v.x, p(v, 'w')), p(v, 'k'), p(v, 'bias')),
  },
  {
    name: 'constants',
    shapes: { x: [3, 2, 3] },
    f: (o, v) => o.add(o.mul(v.x, o.constant([1, -2, 3, 0.5, 0.25, 7], [2, 3])), o.constant([0.125, -1, 2], [3])),
  },
  {
    name: 'iterate, the same body each step',
    shapes: { x: [3, 4], a: [4] },
    f: (o, v) => {
      const [s, t] = o.iterate(5, [v.x, o.mul(v.x, o.scalar(0))], (_i, [s0, t0]) => [o.add(o.mul(s0 as never, o.scalar(0.5)), p(v, 'a')), o.add(t0 as never, o.tanh(s0 as never))]) as [never, never];
      return o.concatLast([s, t]);
    },
  },
  {
    name: 'iterate, a body that reads the step number',
    shapes: { x: [3, 4] },
    f: (o, v) => (o.iterate(3, [v.x], (i, [s]) => [o.add(o.mul(s as never, o.scalar(0.5)), o.scalar(i))]) as readonly never[])[0] as never,
  },
];

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The probe as a Python function of x and the parameters, its constants on `self`. */
const pythonProbe = (probe: Probe, index: number): string => {
  const writer = new PythonWriter();
  const names = Object.keys(probe.shapes).filter((k) => k !== 'x');
  const out = probe.f(pythonOps(writer), { x: 'x', ...Object.fromEntries(names.map((n) => [n, `params[${JSON.stringify(n)}]`])) });
  const lines = writer.take();
  const constants = writer.constants().map((c) => `self.${c.name} = ${c.init}`);
  return [`def probe${index}(x, params):`, '    self = types.SimpleNamespace()', ...constants.map((l) => `    ${l}`), ...lines.map((l) => `    ${l}`), `    return ${out}`].join('\n');
};

const RUNTIME = resolve('src/interpreters/pytorch');

const driver = (probes: string, count: number, root: string): string => `
import sys, types
import torch
import torch.nn.functional as F
sys.path.insert(0, ${JSON.stringify(RUNTIME)})
from py.nets import conv_same  # noqa: F401 (the lines below call it)
from py.safetensors import read_safetensors, write_safetensors
torch.set_num_threads(1)

${probes}

tensors, _ = read_safetensors(${JSON.stringify(join(root, 'in.safetensors'))})
out = {}
for run in range(${count}):
    for i, probe in enumerate(PROBES):
        prefix = f'{run}.{i}.'
        params = {k[len(prefix):]: t for k, t in tensors.items() if k.startswith(prefix) and k != prefix + 'x'}
        out[f'{run}.{i}'] = probe(tensors[prefix + 'x'], params).contiguous()
write_safetensors(${JSON.stringify(join(root, 'out.safetensors'))}, out)
`;

describe('the PyTorch engine of the op algebra', () => {
  it('writes a Python for loop for iterate with the body once, and unrolls a body that reads the step number', () => {
    const loop = pythonProbe(PROBES[7] as Probe, 0);
    expect(loop).toContain('for _ in range(5):');
    expect(loop.match(/torch\.tanh/g)?.length).toBe(1);
    const unrolled = pythonProbe(PROBES[8] as Probe, 0);
    expect(unrolled).not.toContain('for _ in');
    expect(unrolled.match(/ \* 0\.5/g)?.length).toBe(3);
  });

  it.skipIf(!torch.ok)(`computes what the tfjs engine computes, op by op (torch: ${torch.note ?? 'available'})`, () => {
    const runs = 4;
    const root = mkdtempSync(join(tmpdir(), 'typed-flows-ops-'));
    const draws = fc.sample(fc.float({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true }), { seed: 20, numRuns: 20000 });
    let at = 0;
    const draw = (n: number, positive: boolean): Float32Array => Float32Array.from({ length: n }, () => {
      const v = draws[at++ % draws.length] as number;
      return positive ? Math.abs(v) + 0.1 : v;
    });
    const inputs: Array<[string, SafeTensor]> = [];
    const expected = new Map<string, Float32Array>();
    for (let run = 0; run < runs; run++) {
      PROBES.forEach((probe, i) => {
        const values = Object.fromEntries(Object.entries(probe.shapes).map(([k, s]) => [k, draw(size(s), probe.positive === true)]));
        for (const [k, s] of Object.entries(probe.shapes)) inputs.push([`${run}.${i}.${k}`, { dtype: 'F32', shape: s, data: values[k] as Float32Array }]);
        const out = tf.tidy(() => {
          const v = Object.fromEntries(Object.entries(probe.shapes).map(([k, s]) => [k, tf.tensor(values[k] as Float32Array, [...s])])) as Inputs<tf.Tensor>;
          return probe.f(tfjsOps, v);
        });
        expected.set(`${run}.${i}`, Float32Array.from(out.dataSync()));
        out.dispose();
      });
    }
    writeFileSync(join(root, 'in.safetensors'), encodeSafetensors(inputs));
    const probes = `${PROBES.map(pythonProbe).join('\n\n\n')}\n\n\nPROBES = [${PROBES.map((_, i) => `probe${i}`).join(', ')}]`;
    writeFileSync(join(root, 'probes.py'), driver(probes, runs, root));
    const r = spawnSync(SYSTEM_PYTHON, [join(root, 'probes.py')], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(join(root, 'out.safetensors'))));
    const worst = PROBES.map((probe, i) => {
      let e = 0;
      for (let run = 0; run < runs; run++) e = Math.max(e, maxNormalisedError(tensors.get(`${run}.${i}`)?.data ?? [], expected.get(`${run}.${i}`) ?? []));
      return [probe.name, e] as const;
    });
    console.log('pytorch ops vs tfjs, worst normalised errors:', Object.fromEntries(worst));
    for (const [name, e] of worst) expect(e, name).toBeLessThanOrEqual(TOLERANCE);
  });
});
