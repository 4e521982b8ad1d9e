/**
 * Where an NSF training step's time goes on tfjs (docs/density.md, section 6): the kernels tfjs runs
 * for one training step of the density bench's MAF and NSF on two moons (256 rows), and for the
 * spline transformer alone (forward and gradient on the bench's shape [256, 2], 8 bins), with the
 * median time of each over `reps` runs. Run: `npx tsx bench/spline-kernels.ts [reps]` (default 300).
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend/index.js';
import { tfjsOps } from '../src/algebra/tfjs.js';
import { rqSpline, splineValuesPerElement } from '../src/dsl/transformers/spline.js';
import { distributionParamInfo, initDistribution, logProbRaw, standardNormal, transformed } from '../src/distributions/index.js';
import { disposeParams } from '../src/dsl/params.js';
import { createAdamState, disposeReplaced, trainStep } from '../src/training/index.js';
import { median } from './common.js';
import { DENSITY_ARCHITECTURE, densityFlow, type DensityFlowName } from './density.js';
import { twoMoons } from './density-data.js';

const reps = Number(process.argv[2] ?? 300);
await selectBackend({ prefer: 'wasm', log: () => {} });
const rows = 256;
const x = tf.tensor2d(twoMoons.sample(rows, 1));

/** One training step of the bench's flow, as a closure over its parameters and Adam state. */
const stepOf = (name: DensityFlowName): { run: () => void; dispose: () => void } => {
  const dist = transformed(standardNormal([2]), densityFlow(2, name));
  let params = initDistribution(dist, { seed: 0 });
  let state = createAdamState(params);
  const trainable = new Set(distributionParamInfo(dist).filter((p) => p.trainable).map((p) => p.path));
  return {
    run: () => {
      const r = trainStep((p) => tf.neg(tf.mean(logProbRaw(dist, p, [x]))) as tf.Scalar, params, state, { lr: 1e-3, clipNorm: 10, trainable });
      disposeReplaced(params, r.params);
      disposeReplaced(state, r.state);
      params = r.params;
      state = r.state;
    },
    dispose: () => [params, state.m, state.v].forEach(disposeParams),
  };
};

const { bins, bound } = DENSITY_ARCHITECTURE;
const z = tf.randomNormal([rows, 2], 0, 2, 'float32', 1);
const raw = tf.variable(tf.randomNormal([rows, 2, splineValuesPerElement(bins)], 0, 1, 'float32', 2));
const splineLoss = (): tf.Scalar => {
  const r = rqSpline(tfjsOps, z, [2], raw, bins, bound, false);
  return tf.add(tf.sum(r.out), tf.sum(r.logDet));
};
const splineGrad = (): void => tf.tidy(() => void tf.variableGrads(splineLoss).value.dataSync());

const cases: Array<[string, () => void]> = [
  ['MAF step', stepOf('MAF').run],
  ['NSF step', stepOf('NSF').run],
  ['spline forward', () => tf.tidy(() => void splineLoss().dataSync())],
  ['spline forward + gradient', splineGrad],
];
const times = new Map<string, number[]>(cases.map(([n]) => [n, []]));
for (let i = 0; i < reps; i++) for (const [n, f] of cases) {
  const t0 = performance.now();
  f();
  if (i >= 10) times.get(n)?.push(performance.now() - t0);
}
for (const [n, f] of cases) {
  const info = await tf.profile(() => void f());
  const byName = new Map<string, number>();
  for (const k of info.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
  const top = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, c]) => `${k} ${c}`).join(', ');
  console.log(`${n}: ${(median(times.get(n) ?? [])).toFixed(2)} ms (median of ${reps - 10}), ${info.kernels.length} kernels (${top})`);
}
