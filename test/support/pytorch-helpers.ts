/**
 * Runs generated PyTorch modules against the tfjs interpreters: each case (a flow, its parameters,
 * inputs and conditioning) is written to a directory as a module and a safetensors file, one Python
 * process runs every case's forward and inverse, and the outputs come back as safetensors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ensureTorch, SYSTEM_PYTHON } from '../../bench/pytorch.js';
import { toPyTorch } from '../../src/interpreters/pytorch/index.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../../src/io/safetensors.js';
import { flattenParams, type ParamTree } from '../../src/dsl/params.js';
import type { FlowSpec } from '../../src/dsl/spec.js';

/** Whether torch imports under /usr/bin/python3 (installing Debian's python3-torch if it does not); the reason when not. */
export const torchAvailable = (() => {
  let cached: { ok: boolean; note?: string } | undefined;
  return (): { ok: boolean; note?: string } => {
    cached ??= ensureTorch((m) => console.error(m));
    return cached;
  };
})();

export const safeTensor = (t: tf.Tensor): SafeTensor => ({ dtype: 'F32', shape: t.shape, data: Float32Array.from(t.dataSync()) });

export interface TorchCase {
  readonly flow: FlowSpec;
  readonly params: ParamTree;
  /** Forward inputs. */
  readonly xs: readonly tf.Tensor[];
  /** Inverse inputs (e.g. typed-flows' forward outputs). */
  readonly ys: readonly tf.Tensor[];
  readonly ctx: Readonly<Record<string, tf.Tensor>>;
}

export interface TorchResult {
  readonly forward: readonly Float32Array[];
  readonly forwardLogDet: Float32Array;
  readonly inverse: readonly Float32Array[];
  readonly inverseLogDet: Float32Array;
}

const driver = `
import importlib.util, json, sys
import torch
torch.set_num_threads(1)
for case in json.loads(sys.argv[1]):
    spec = importlib.util.spec_from_file_location('flow_' + str(abs(hash(case['dir']))), case['dir'] + '/flow.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    flow = mod.build_flow()
    mod.load_params(flow, case['dir'] + '/case.safetensors')
    tensors, _ = mod.read_safetensors(case['dir'] + '/case.safetensors')
    xs = [tensors[f'x.{i}'] for i in range(case['xs'])]
    ys = [tensors[f'y.{i}'] for i in range(case['ys'])]
    ctx = {name: tensors['ctx.' + name] for name in case['ctx']}
    with torch.no_grad():
        fy, fld = flow(xs, ctx)
        ix, ild = flow.inverse(ys, ctx)
    out = {'forward.log_det': fld, 'inverse.log_det': ild}
    out.update({f'forward.{i}': t for i, t in enumerate(fy)})
    out.update({f'inverse.{i}': t for i, t in enumerate(ix)})
    mod.write_safetensors(case['dir'] + '/out.safetensors', out)
`;

/** Writes every case, runs them in one Python process and reads the outputs back. */
export const runTorchCases = (cases: readonly TorchCase[]): TorchResult[] => {
  const root = mkdtempSync(join(tmpdir(), 'typed-flows-pytorch-'));
  const described = cases.map((c, i) => {
    const dir = join(root, `case${i}`);
    const named: Array<[string, SafeTensor]> = [
      ...flattenParams(c.params).map(([p, t]): [string, SafeTensor] => [`params.${p}`, safeTensor(t)]),
      ...c.xs.map((t, j): [string, SafeTensor] => [`x.${j}`, safeTensor(t)]),
      ...c.ys.map((t, j): [string, SafeTensor] => [`y.${j}`, safeTensor(t)]),
      ...Object.entries(c.ctx).map(([k, t]): [string, SafeTensor] => [`ctx.${k}`, safeTensor(t)]),
    ];
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'flow.py'), toPyTorch(c.flow));
    writeFileSync(join(dir, 'case.safetensors'), encodeSafetensors(named));
    return { dir, xs: c.xs.length, ys: c.ys.length, ctx: Object.keys(c.ctx) };
  });
  const r = spawnSync(SYSTEM_PYTHON, ['-c', driver, JSON.stringify(described)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`the PyTorch driver failed (exit ${r.status}; cases in ${root}):\n${r.stderr}`);
  return described.map((d) => {
    const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(join(d.dir, 'out.safetensors'))));
    const get = (name: string): Float32Array => {
      const t = tensors.get(name);
      if (t === undefined) throw new Error(`${d.dir}: no output ${name}`);
      return t.data as Float32Array;
    };
    const count = (prefix: string): number => [...tensors.keys()].filter((k) => k.startsWith(prefix) && !k.endsWith('log_det')).length;
    return {
      forward: Array.from({ length: count('forward.') }, (_, i) => get(`forward.${i}`)),
      forwardLogDet: get('forward.log_det'),
      inverse: Array.from({ length: count('inverse.') }, (_, i) => get(`inverse.${i}`)),
      inverseLogDet: get('inverse.log_det'),
    };
  });
};

/** max |a - b| / (1 + |b|) over elements (Infinity for different lengths or a NaN). */
export const maxNormalisedError = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs((a[i] as number) - (b[i] as number)) / (1 + Math.abs(b[i] as number));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
};
