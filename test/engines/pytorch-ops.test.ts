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
import * as E from 'fp-ts/lib/Either.js';
import { branch, param, type AlgebraBijector, type Ops } from '../../src/algebra/ops.js';
import { tfjsOps } from '../../src/algebra/tfjs.js';
import type { BijectorDefinition } from '../../src/dsl/definition.js';
import { flattenShapes } from '../../src/dsl/params.js';
import { GeneratedClasses, importsFor, pythonOps, PythonWriter, runtimeFor, runtimeLibrary } from '../../src/interpreters/pytorch/index.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../../src/io/safetensors.js';
import { SYSTEM_PYTHON } from '../../bench/pytorch.js';
import { maxNormalisedError, torchAvailable } from '../support/pytorch-helpers.js';

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
    shapes: { x: [2, 4, 4, 3], w: [3, 5], k: [3, 3, 5, 2], bias: [2], v: [2, 3] },
    f: (o, v) => {
      const image = o.conv2d(o.matmul(v.x, p(v, 'w')), p(v, 'k'), p(v, 'bias'));
      // A vector event [N, K] and a rank-3 one [N, H, K] take the plain matmul path.
      const flat = o.matmul(o.reshape(image, [32]), o.constant(Array.from({ length: 96 }, (_, i) => Math.sin(i)), [32, 3]));
      const rows = o.matmul(o.reshape(image, [16, 2]), p(v, 'v'));
      return o.concatLast([o.reshape(flat, [3]), o.reshape(rows, [48])]);
    },
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
    f: (o, v) => (o.iterate(3, [v.x], (i, [s]) => [o.add(o.mul(s as never, o.scalar(0.5)), i)]) as readonly never[])[0] as never,
  },
  {
    name: 'iterate that ends early (until), a masked body',
    shapes: { x: [3, 4] },
    // Each element grows by 1 until it reaches 2; once every element has, the body changes nothing.
    f: (o, v) => (o.iterate(10, [v.x], (_i, [s]) => [o.where(o.greaterEqual(s as never, o.scalar(2)), s as never, o.add(s as never, o.scalar(1)))], ([s]) => o.greaterEqual(s as never, o.scalar(2))) as readonly never[])[0] as never,
  },
  {
    name: 'elu, padLast, zerosLike and the matrix ops (mixChannels, logAbsDet, inverseMatrix) on W = 2 I + 0.3 w',
    shapes: { x: [3, 4], w: [4, 4] },
    f: (o, v) => {
      const eye = o.constant([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [4, 4]);
      const w = o.add(o.mul(eye, o.scalar(2)), o.mul(p(v, 'w'), o.scalar(0.3)));
      return o.concatLast([o.elu(v.x), o.padLast(v.x, 1, 2, 0.5), o.mixChannels(v.x, w), o.mixChannels(v.x, o.inverseMatrix(w)), o.add(o.zerosLike(v.x), o.logAbsDet(w))]);
    },
  },
  {
    name: 'sin and cos',
    shapes: { x: [3, 4] },
    f: (o, v) => o.concatLast([o.sin(v.x), o.cos(v.x)]),
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
from py.conv import conv_same  # noqa: F401 (the lines below call them)
from py.linalg import inverse_matrix, log_abs_det, matmul_last, mix_channels  # noqa: F401
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
  it('writes a Python for loop for iterate with the body once, the step number its loop variable, and a break for until', () => {
    const loop = pythonProbe(PROBES[7] as Probe, 0);
    expect(loop).toMatch(/for \w+ in range\(5\):/);
    expect(loop.match(/torch\.tanh/g)?.length).toBe(1);
    const stepped = pythonProbe(PROBES[8] as Probe, 0);
    const variable = /for (\w+) in range\(3\):/.exec(stepped)?.[1];
    expect(variable).toBeDefined();
    expect(stepped.match(/ \* 0\.5/g)?.length).toBe(1);
    expect(stepped).toContain(`+ ${variable}`);
    const early = pythonProbe(PROBES[9] as Probe, 0);
    expect(early).toMatch(/if bool\(\w+\.all\(\)\):\n\s+break/);
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

/**
 * A kind that is no registered kind, written on the algebra with nested parameters, a frozen group and
 * conditioning: y = (x - stats.mean) exp(scale.logScale) + shift + c / 2 per channel.
 */
interface ShiftedScaleSpec {
  readonly kind: 'shiftedScale';
  readonly shape: readonly [number, number, number];
}
const shiftedScaleAlgebra: AlgebraBijector<ShiftedScaleSpec> = {
  forward: (o, spec, p, [x], ctx) => {
    const logScale = param(o, branch(o, p, 'scale'), 'logScale');
    const y = o.add(o.add(o.mul(o.sub(x as never, param(o, branch(o, p, 'stats'), 'mean')), o.exp(logScale)), param(o, p, 'shift')), o.mul(ctx.c as never, o.scalar(0.5)));
    return { outs: [y], logDet: o.perSample(x as never, o.mul(o.sumAll(logScale), o.scalar((spec.shape[1] * spec.shape[2]) as number))) };
  },
  inverse: (o, spec, p, [y], ctx) => {
    const logScale = param(o, branch(o, p, 'scale'), 'logScale');
    const z = o.mul(o.sub(o.sub(y as never, param(o, p, 'shift')), o.mul(ctx.c as never, o.scalar(0.5))), o.exp(o.neg(logScale)));
    return { outs: [o.add(z, param(o, branch(o, p, 'stats'), 'mean'))], logDet: o.perSample(y as never, o.mul(o.sumAll(logScale), o.scalar(-spec.shape[1] * spec.shape[2]))) };
  },
};
const shiftedScale = {
  kind: 'shiftedScale',
  signature: (spec: ShiftedScaleSpec) => E.right({ ins: [spec.shape], outs: [spec.shape], cond: { c: spec.shape } }),
  params: { shapes: ({ shape: [c] }: ShiftedScaleSpec) => ({ scale: { logScale: [c] }, shift: [c], stats: { mean: [c] } }), frozen: ['stats'], mixing: [], init: () => ({}) },
  algebra: shiftedScaleAlgebra,
} as unknown as BijectorDefinition<ShiftedScaleSpec>;

describe('a class generated from a kind written on the algebra', () => {
  it.skipIf(!torch.ok)('has the checkpoint\'s parameter names and shapes (frozen ones buffers) and computes what tfjs computes', () => {
    const spec: ShiftedScaleSpec = { kind: 'shiftedScale', shape: [3, 2, 2] };
    const classes = new GeneratedClasses(runtimeLibrary.keys());
    const name = classes.classOf(shiftedScale, shiftedScaleAlgebra, spec);
    expect(name).toBe('ShiftedScale');
    const shapes = flattenShapes(shiftedScale.params.shapes(spec));
    const draws = fc.sample(fc.float({ min: -1, max: 1, noNaN: true, noDefaultInfinity: true }), { seed: 7, numRuns: 200 });
    let at = 0;
    const draw = (shape: readonly number[]): SafeTensor => ({ dtype: 'F32', shape, data: Float32Array.from({ length: size(shape) }, () => draws[at++ % draws.length] as number) });
    const params = shapes.map(([k, s]) => [k, draw(s)] as const);
    const x = draw([2, 2, 2, 3]);
    const c = draw([2, 2, 2, 3]);
    const expected = tf.tidy(() => {
      const t = (v: SafeTensor) => tf.tensor(v.data as Float32Array, [...v.shape]);
      const byKey = Object.fromEntries(params.map(([k, v]) => [k, t(v)]));
      const tree = { scale: { logScale: byKey['scale.logScale'] as tf.Tensor }, shift: byKey.shift as tf.Tensor, stats: { mean: byKey['stats.mean'] as tf.Tensor } };
      const f = shiftedScaleAlgebra.forward(tfjsOps, spec, tree, [t(x)], { c: t(c) });
      const b = shiftedScaleAlgebra.inverse(tfjsOps, spec, tree, [t(x)], { c: t(c) });
      return [f.outs[0], f.logDet, b.outs[0], b.logDet].map((v) => Float32Array.from((v as tf.Tensor).dataSync()));
    });
    const root = mkdtempSync(join(tmpdir(), 'typed-flows-generated-'));
    writeFileSync(join(root, 'in.safetensors'), encodeSafetensors([...params.map(([k, v]) => [`params.${k}`, v] as [string, SafeTensor]), ['x', x], ['c', c]]));
    const code = classes.code();
    const body = `${runtimeFor(runtimeLibrary, [code, 'read_safetensors write_safetensors load_params'])}\n\n\n${code}`;
    const script = `import sys
${importsFor(body)}


${body}


m = ${name}()
load_params(m, sys.argv[1] + '/in.safetensors')
tensors, _ = read_safetensors(sys.argv[1] + '/in.safetensors')
with torch.no_grad():
    (fy,), fld = m([tensors['x']], {'c': tensors['c']})
    (ix,), ild = m.inverse([tensors['x']], {'c': tensors['c']})
write_safetensors(sys.argv[1] + '/out.safetensors', {'fy': fy, 'fld': fld, 'ix': ix, 'ild': ild})
print(json.dumps({'state': {k: list(v.shape) for k, v in m.state_dict().items()}, 'buffers': [k for k, _ in m.named_buffers()]}))
`;
    writeFileSync(join(root, 'run.py'), script);
    const r = spawnSync(SYSTEM_PYTHON, [join(root, 'run.py'), root], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { state: Record<string, number[]>; buffers: string[] };
    expect(report.state).toEqual(Object.fromEntries(shapes.map(([k, s]) => [k, [...s]])));
    expect(report.buffers).toEqual(['stats.mean']);
    const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(join(root, 'out.safetensors'))));
    const errors = ['fy', 'fld', 'ix', 'ild'].map((k, i) => maxNormalisedError(tensors.get(k)?.data ?? [], expected[i] as Float32Array));
    console.log('generated class vs tfjs, worst normalised errors (forward, log-det, inverse, log-det):', errors);
    for (const e of errors) expect(e).toBeLessThanOrEqual(TOLERANCE);
  });
});
