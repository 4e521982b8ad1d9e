/**
 * CAFLOW and Dual-Glow+ as whole PyTorch modules (caflowToPyTorch) against typed-flows: every term of
 * the joint objective per sample, and a sampling pass with the same standard normal noise (per-scale
 * temperatures, k samples per condition, ranked), on small models with random non-trivial parameters
 * (data-initialised, then every trainable tensor perturbed with std 0.05 so couplings are not the identity).
 *
 * Tolerances (max |torch - tfjs| / (1 + |tfjs|)): 1e-5 for the log-likelihood terms, which are sums of
 * ~500 per-dimension terms of a few nats each computed in float32 in different orders (ulp 6e-8 of
 * values ~1e3, so ~1e-6 relative); 1e-4 for the samples, which pass through every inverse layer
 * (the flow tests' per-layer budget). The ranking must be the same: the rows are compared in order.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { caflowConfig, caflowSpec, initCaflow, logLikelihood, sample, type CaflowParams, type CaflowSpec, type Variant } from '../../src/caflow/index.js';
import { disposeParams, flattenParams, mapParams, type ParamTree } from '../../src/dsl/params.js';
import { signature } from '../../src/dsl/signature.js';
import { seededNormal } from '../../src/interpreters/seeded-normal.js';
import { caflowToPyTorch } from '../../src/caflow/pytorch.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../../src/io/safetensors.js';
import { SYSTEM_PYTHON } from '../../bench/pytorch.js';
import { maxNormalisedError, safeTensor, torchAvailable } from '../support/pytorch-helpers.js';

const torch = torchAvailable();

const driver = `
import importlib.util, json, sys
import torch
torch.set_num_threads(1)
d, k, temps = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
spec = importlib.util.spec_from_file_location('caflow_model', d + '/model.py')
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
model = mod.Caflow()
mod.load_params(model, d + '/case.safetensors')
t, _ = mod.read_safetensors(d + '/case.safetensors')
noise = [[t[f'noise.{i}.{j}'] for j in range(len(s))] for i, s in enumerate(model.latent_shapes)]
with torch.no_grad():
    terms = model.log_likelihood(t['w'], t['y'])
    w, ll = model.sample(t['y_s'], k, temps, noise=noise)
out = {'joint': terms['joint'], 'conditional': terms['conditional'], 'log_p_y': terms['log_p_y'], 'sample.w': w, 'sample.ll': ll}
mod.write_safetensors(d + '/out.safetensors', out)
`;

const perturbed = (params: CaflowParams, seed: number): CaflowParams => {
  let s = seed;
  return mapParams(params as ParamTree, (t) => tf.tidy(() => tf.add(t, seededNormal(t.shape, 0.05, s++)))) as unknown as CaflowParams;
};

const run = (variant: Variant): { errors: Record<string, number>; llTfjs: Float32Array } => {
  const m: CaflowSpec = caflowSpec(caflowConfig({ target: [2, 8, 8], condition: [1, 8, 8], scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 8, conditionalHidden: 6, variant }));
  const pixels = (shape: number[], seed: number) => tf.tidy(() => tf.mul(tf.randomUniform(shape, 0, 1, 'float32', seed), 256)) as tf.Tensor4D;
  const initW = pixels([16, 8, 8, 2], 1);
  const initY = pixels([16, 8, 8, 1], 2);
  const fresh = initCaflow(m, { seed: 3, w: initW, y: initY });
  const params = perturbed(fresh, 100);
  disposeParams(fresh as unknown as ParamTree);
  const w = pixels([3, 8, 8, 2], 4);
  const y = pixels([3, 8, 8, 1], 5);
  const ySample = pixels([2, 8, 8, 1], 6);
  const k = 3;
  const temps = [0.9, 0.6];
  const noise = m.priors.map((g, i) => signature(g).outs.map((s, j) => seededNormal([2 * k, s[1] as number, s[2] as number, s[0] as number], 1, 1000 + 10 * i + j) as tf.Tensor4D));

  const terms = logLikelihood(m, params)(w, y);
  const s = sample(m, params)(ySample, { k, temperature: temps, noise });
  const expected = {
    joint: terms.joint.dataSync(),
    conditional: terms.conditional.dataSync(),
    log_p_y: terms.logpY.dataSync(),
    'sample.w': s.w.dataSync(),
    'sample.ll': s.logLikelihood.dataSync(),
  };

  const dir = mkdtempSync(join(tmpdir(), `typed-flows-caflow-${variant}-`));
  const named: Array<[string, SafeTensor]> = [
    ...flattenParams(params as ParamTree).map(([p, t]): [string, SafeTensor] => [`params.${p}`, safeTensor(t)]),
    ['w', safeTensor(w)],
    ['y', safeTensor(y)],
    ['y_s', safeTensor(ySample)],
    ...noise.flatMap((zs, i) => zs.map((z, j): [string, SafeTensor] => [`noise.${i}.${j}`, safeTensor(z)])),
  ];
  writeFileSync(join(dir, 'model.py'), caflowToPyTorch(m));
  writeFileSync(join(dir, 'case.safetensors'), encodeSafetensors(named));
  const r = spawnSync(SYSTEM_PYTHON, ['-c', driver, dir, String(k), JSON.stringify(temps)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`PyTorch failed (files in ${dir}):\n${r.stderr}`);
  const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'out.safetensors'))));
  const errors = Object.fromEntries(Object.entries(expected).map(([name, e]) => [name, maxNormalisedError(tensors.get(name)?.data ?? [], e)]));
  const llTfjs = Float32Array.from(expected['sample.ll']);
  tf.dispose([initW, initY, w, y, ySample, ...noise.flat(), terms.joint, terms.conditional, terms.logpY, terms.logDetT, ...terms.priors, s.w, s.logLikelihood]);
  disposeParams(params as unknown as ParamTree);
  return { errors, llTfjs };
};

describe.skipIf(!torch.ok)(`CAFLOW in PyTorch${torch.ok ? '' : ` (skipped: ${torch.note})`}`, () => {
  it.each<Variant>(['caflow', 'dualglow'])('%s: the joint objective and a sampling pass with fixed noise equal typed-flows\'', (variant) => {
    const { errors, llTfjs } = run(variant);
    console.log(`${variant}: max normalised errors ${JSON.stringify(errors)}`);
    expect(errors['joint']).toBeLessThanOrEqual(1e-5);
    expect(errors['conditional']).toBeLessThanOrEqual(1e-5);
    expect(errors['log_p_y']).toBeLessThanOrEqual(1e-5);
    expect(errors['sample.ll']).toBeLessThanOrEqual(1e-4);
    expect(errors['sample.w']).toBeLessThanOrEqual(1e-4);
    // The ranking is non-trivial (samples differ in log-likelihood) and best-first within each condition.
    for (let b = 0; b < 2; b++) {
      const lls = Array.from(llTfjs.slice(3 * b, 3 * b + 3));
      expect(lls).toEqual([...lls].sort((p, q) => q - p));
      expect(new Set(lls).size).toBe(3);
    }
  });
});
