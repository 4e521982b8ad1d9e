/**
 * CAFLOW with random parameters. At initialisation every coupling and conditional affine outputs zero
 * (identity) and every 1x1 convolution is orthogonal (log|det| = 0), so a fresh model cannot show a
 * wrong coupling log-det, an inverse log-det with the wrong sign, or conditioning that reaches the
 * wrong block. Here the data-initialised parameters get Gaussian noise, and
 * - W -> z -> W and z -> W -> z round trips are exact (float32),
 * - log p(W | Y) equals the change of variables computed independently: sum log N(z) in float64 plus
 *   log|det dz/dW| of the dense autodiff Jacobian of the whole W -> z map (slogdet in float64),
 * - log p_R(Y) likewise with the Jacobian of Y -> D, and the joint is lambda log p_R(Y) + log p(W|Y),
 * - the generating direction reports the same log p(W | Y) as the density direction.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  caflowConfig,
  caflowSpec,
  fromLatents,
  initCaflow,
  logLikelihood,
  priorOf,
  toLatents,
  type CaflowConfig,
  type CaflowParams,
  type CaflowSpec,
} from '../../src/caflow/index.js';
import { forward, mapParams, paramInfo, type ParamTree } from '../../src/interpreters/index.js';
import { slogdet } from '../../src/dsl/maths/linalg.js';
import type { FlowSpec } from '../../src/dsl/index.js';
import { spaceToDepth } from '../../src/dsl/bijectors/squeeze.js';
import { dName, lName } from '../../src/caflow/conditional.js';
import { float64FromLatents, float64LikelihoodTerms } from '../../src/caflow/reference.js';

const tiny = (overrides: Partial<CaflowConfig> = {}): CaflowConfig =>
  caflowConfig({ target: [1, 8, 8], condition: [1, 8, 8], scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 4, conditionalHidden: 4, ...overrides });

const MIXING = new Set(['weight', 'lower', 'upper', 'kernel']);

/** Trainable tensors plus N(0, std^2) noise (std / sqrt(fan-in) for matrices and kernels). */
const perturbTree = (spec: FlowSpec, tree: ParamTree, std: number, seed: number): ParamTree => {
  const trainable = new Set(paramInfo(spec).filter((p) => p.trainable).map((p) => p.path));
  let k = 0;
  return mapParams(tree, (t, path) =>
    tf.tidy(() => {
      if (!trainable.has(path)) return tf.clone(t);
      const name = path.split('.').pop() ?? '';
      const fanIn = t.shape.length >= 2 ? t.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
      const s = MIXING.has(name) && t.shape.length >= 2 ? std / Math.sqrt(fanIn) : std;
      return tf.add(t, tf.randomNormal(t.shape, 0, s, 'float32', seed * 1000 + ++k));
    }),
  );
};

const perturb = (m: CaflowSpec, p: CaflowParams, std: number, seed: number): CaflowParams => ({
  R: perturbTree(m.encoderY as FlowSpec, p.R, std, seed),
  T: perturbTree(m.encoderW as FlowSpec, p.T, std, seed + 1),
  G: p.G.map((g, i) => perturbTree(priorOf(m, i) as FlowSpec, g, std, seed + 2 + i)),
});

/** Per-sample concatenation of flattened latents: [N, sum of sizes]. */
const flat = (zs: readonly tf.Tensor4D[]): tf.Tensor2D => tf.concat(zs.map((z) => tf.reshape(z, [z.shape[0], -1])), 1) as tf.Tensor2D;

/**
 * log|det| of the Jacobian of f: [1,H,W,C] -> [1,D] at x, by autodiff: x repeated D times, row b
 * of the Jacobian is the gradient of output b of copy b. Then slogdet in float64.
 */
const logAbsDetJacobian = (f: (x: tf.Tensor4D) => tf.Tensor2D, x: tf.Tensor4D): number => {
  const [, h, w, c] = x.shape;
  const d = h * w * c;
  const rows = tf.tidy(() => {
    const xs = tf.tile(x, [d, 1, 1, 1]) as tf.Tensor4D;
    const eye = tf.eye(d);
    return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v as tf.Tensor4D), eye)))(xs).dataSync();
  });
  const { sign, logAbsDet } = slogdet(Float64Array.from(rows), d);
  expect(sign).not.toBe(0);
  return logAbsDet;
};

const gaussLog64 = (z: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < z.length; i++) s += -0.5 * (z[i] as number) ** 2 - 0.5 * Math.log(2 * Math.PI);
  return s;
};

const maxAbs = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

describe.each(['caflow', 'dualglow'] as const)('%s with perturbed parameters', (variant) => {
  const m = caflowSpec(tiny({ variant }));
  const w = tf.add(tf.floor(tf.randomUniform([3, 8, 8, 1], 0, 256, 'float32', 11)), tf.randomUniform([3, 8, 8, 1], 0, 1, 'float32', 12)) as tf.Tensor4D;
  const y = tf.add(tf.floor(tf.div(w, 2)), 0.5) as tf.Tensor4D;
  const fresh = initCaflow(m, { seed: 3, w, y });
  const params = perturb(m, fresh, 0.1, 5);

  it('the perturbation matters: log p(W|Y) moves by many nats, and depends on Y', () => {
    const a = logLikelihood(m, fresh)(w, y).conditional;
    const b = logLikelihood(m, params)(w, y).conditional;
    console.log(`${variant}: fresh ${Array.from(a.dataSync(), (v) => v.toFixed(1)).join(", ")}, perturbed ${Array.from(b.dataSync(), (v) => v.toFixed(1)).join(", ")}`);
    expect(maxAbs(a, b)).toBeGreaterThan(5);
    const y2 = tf.reverse(y, 0) as tf.Tensor4D;
    expect(maxAbs(logLikelihood(m, params)(w, y2).conditional, b)).toBeGreaterThan(1);
  });

  it('W -> z -> W and z -> W -> z are exact (float32)', () => {
    const enc = toLatents(m, params)(w, y);
    const dec = fromLatents(m, params)(enc.z, y);
    // Pixels are up to 256 and pass a logit whose inverse amplifies float32 error near 0 and 256:
    // 5e-3 absolute is a relative 2e-5.
    expect(maxAbs(dec.w, w)).toBeLessThan(5e-3);
    const z = enc.z.map((zi, i) => zi.map((t, j) => tf.randomNormal(t.shape, 0, 0.8, 'float32', 100 + 10 * i + j) as tf.Tensor4D));
    const back = toLatents(m, params)(fromLatents(m, params)(z, y).w, y);
    const worst = Math.max(...z.flatMap((zi, i) => zi.map((t, j) => maxAbs(back.z[i]?.[j] as tf.Tensor, t))));
    expect(worst).toBeLessThan(2e-3);
  });

  it('log p(W|Y) = sum log N(z) + log|det dz/dW| (dense Jacobian, float64), and the generating direction agrees', () => {
    const ll = logLikelihood(m, params)(w, y);
    const cond = ll.conditional.dataSync();
    const gen = fromLatents(m, params)(toLatents(m, params)(w, y).z, y).logLikelihood.dataSync();
    let worst = 0;
    for (let b = 0; b < w.shape[0]; b++) {
      const wb = tf.slice(w, [b, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
      const yb = tf.slice(y, [b, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
      const z = tf.tidy(() => flat(toLatents(m, params)(wb, yb).z.flat()));
      const logDet = logAbsDetJacobian((v) => {
        const ys = tf.tile(yb, [v.shape[0], 1, 1, 1]) as tf.Tensor4D;
        return flat(toLatents(m, params)(v, ys).z.flat());
      }, wb);
      const expected = gaussLog64(z.dataSync()) + logDet;
      worst = Math.max(worst, Math.abs((cond[b] as number) - expected), Math.abs((gen[b] as number) - expected));
      // |log p| is a few hundred nats; measured deviations are 1e-5 nats, 1e-3 leaves room for other float32 orders.
      expect(Math.abs((cond[b] as number) - expected), `sample ${b}: ${cond[b]} vs ${expected}`).toBeLessThan(1e-3);
      expect(Math.abs((gen[b] as number) - expected), `generating direction, sample ${b}`).toBeLessThan(1e-3);
      tf.dispose([wb, yb, z]);
    }
    console.log(`${variant}: log p(W|Y) = ${Array.from(cond, (c) => c.toFixed(2)).join(', ')}; worst deviation from the float64 change of variables ${worst.toExponential(2)} nats`);
  });

  it('log p_R(Y) = sum log N(D) + log|det dD/dY| (float64), and joint = lambda log p_R(Y) + log p(W|Y)', () => {
    const ll = logLikelihood(m, params)(w, y);
    const logpY = ll.logpY.dataSync();
    const joint = ll.joint.dataSync();
    const cond = ll.conditional.dataSync();
    for (let b = 0; b < y.shape[0]; b++) {
      const yb = tf.slice(y, [b, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
      const encode = (v: tf.Tensor4D): tf.Tensor2D => flat(forward(m.encoderY, params.R)([v]).ys as tf.Tensor4D[]);
      const d = tf.tidy(() => encode(yb));
      const expected = gaussLog64(d.dataSync()) + logAbsDetJacobian(encode, yb);
      expect(Math.abs((logpY[b] as number) - expected)).toBeLessThan(1e-3);
      expect(Math.abs((joint[b] as number) - (m.lambda * expected + (cond[b] as number)))).toBeLessThan(1e-3);
      tf.dispose([yb, d]);
    }
  });

  // CAFLOW's maths is written once (src/caflow/maths.ts); tfjs and the float64 reference are two engines
  // of it. Their agreement is float32's error, not a shared mistake: the dense-Jacobian tests above check
  // the formula itself.
  it('the tfjs engine agrees with the float64 reference on every term, and on generation', () => {
    const ll = logLikelihood(m, params)(w, y);
    const ref = float64LikelihoodTerms(m, params, w, y);
    const gap = (a: tf.Tensor, b: { data: ArrayLike<number> }): number => {
      const got = a.dataSync();
      return Math.max(...Array.from(got, (v, k) => Math.abs(v - (b.data[k] as number))));
    };
    const worst = {
      joint: gap(ll.joint, ref.joint),
      conditional: gap(ll.conditional, ref.conditional),
      logpY: gap(ll.logpY, ref.logpY),
      logDetT: gap(ll.logDetT, ref.logDetT),
      priors: Math.max(...ll.priors.map((p, i) => gap(p, ref.priors[i] as { data: ArrayLike<number> }))),
    };
    // |log p| is a few hundred nats from sums of ~10^3 float32 terms: 1e-3 nats is a relative 5e-6.
    for (const [term, v] of Object.entries(worst)) expect(v, term).toBeLessThan(1e-3);
    const z = toLatents(m, params)(w, y).z;
    const gen = fromLatents(m, params)(z, y);
    const gen64 = float64FromLatents(m, params, z, y);
    // Pixels up to 256 through the inverse logit: as the round trip above, 5e-3 absolute.
    expect(gap(gen.w, gen64.w)).toBeLessThan(5e-3);
    expect(gap(gen.logLikelihood, gen64.logp)).toBeLessThan(1e-3);
    console.log(`${variant}: tfjs vs float64, worst |difference| per term (nats): ${Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}; generated W ${gap(gen.w, gen64.w).toExponential(1)}`);
  });

  // Conditioning that reaches the wrong latent is a valid bijection too, so the change-of-variables
  // checks above cannot see it. Here each prior's term is recomputed with its conditioning built from
  // the design's statement (docs/caflow.md: G_i reads D_i and, in CAFLOW, L_j and D_j for every j > i),
  // by name, in a configuration where L_j and D_j have the same shape ([1,8,8] target and condition):
  // a prior fed D_j where it should read L_j gives other numbers.
  it("each prior's term uses the conditioning the design states (L_j, not D_j, where both have one shape)", () => {
    const ll = logLikelihood(m, params)(w, y);
    const D = forward(m.encoderY, params.R)([y]).ys as tf.Tensor4D[];
    const L = forward(m.encoderW, params.T)([w]).ys as tf.Tensor4D[];
    m.priors.forEach((_, i) => {
      const ctx: Record<string, tf.Tensor> = { [dName(i)]: spaceToDepth(D[i] as tf.Tensor4D) };
      if (variant === 'caflow') {
        for (let j = i + 1; j < m.priors.length; j++) {
          expect((L[j] as tf.Tensor4D).shape).toEqual((D[j] as tf.Tensor4D).shape); // the swap would type-check
          ctx[lName(j)] = spaceToDepth(L[j] as tf.Tensor4D);
          ctx[dName(j)] = spaceToDepth(D[j] as tf.Tensor4D);
        }
      }
      const g = forward(priorOf(m, i), params.G[i] as ParamTree)([L[i] as tf.Tensor4D], ctx as never);
      // sum_j log N(z_i^j) over the prior's outputs, plus its log-det.
      const termOf = (out: { ys: readonly tf.Tensor[]; logDet: tf.Tensor }): tf.Tensor =>
        tf.tidy(() => tf.addN([out.logDet, ...out.ys.map((z) => tf.sum(tf.reshape(tf.sub(tf.mul(-0.5, tf.square(z)), 0.5 * Math.log(2 * Math.PI)), [w.shape[0], -1]), 1))]));
      const expected = termOf(g as never);
      // float32 sums of a few hundred terms of O(1): 1e-3 nats.
      expect(maxAbs(ll.priors[i] as tf.Tensor, expected)).toBeLessThan(1e-3);
      if (variant === 'caflow' && i + 1 < m.priors.length) {
        // And the check can fail: the same prior fed D_j in L_j's place is off by far more.
        const swapped = { ...ctx, [lName(i + 1)]: ctx[dName(i + 1)] as tf.Tensor };
        const wrong = forward(priorOf(m, i), params.G[i] as ParamTree)([L[i] as tf.Tensor4D], swapped as never);
        const wrongTerm = termOf(wrong as never);
        expect(maxAbs(ll.priors[i] as tf.Tensor, wrongTerm)).toBeGreaterThan(1e-2);
      }
    });
  });
});
