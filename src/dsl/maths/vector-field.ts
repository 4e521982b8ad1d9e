/**
 * The vector field of a continuous flow: an MLP v(x, t, c) on vectors, and its divergence
 * tr(dv/dx) computed exactly by carrying the Jacobian through the layers, written on the op algebra.
 *
 * Layers (widths D -> H_1 -> ... -> H_L -> D):
 *   z_1 = x K_0 + e(t) T_0 + c C_0 + b_0,   h_l = act(z_l),   z_{l+1} = h_l K_l + b_l,   v = h_L K_L + b_L,
 * with the time embedding e(t) = [sin(w_k t), cos(w_k t)], w_k = pi (k + 1), k = 0..F-1. The context c
 * (the named conditioning vectors, concatenated) enters the first layer only, so dv/dx does not see it.
 *
 * Jacobian: dz_1/dx = K_0 (the same for every sample), dh_l/dx = dz_l/dx * act'(z_l) (columnwise),
 * dz_{l+1}/dx = dh_l/dx K_l, dv/dx = dh_L/dx K_L, each [N, D, H]; the divergence is the trace of the
 * last, [N]. Cost O(N D H^2) a layer, against O(N H^2) for v alone: exact for small D (the case this
 * is for). The Hutchinson estimate e^T (dv/dx) e (Hutchinson 1989; FFJORD) carries the one direction
 * (dv/dx) e instead (forward mode: d z_1 = e K_0, then as above with [N, H_l] in place of [N, D, H_l]),
 * O(N H^2) like v itself; over probes e with E[e e^T] = I (Rademacher or standard normal) its mean is
 * the trace.
 *
 * act is tanh (act' = 1 - h^2) or softplus (act' = sigmoid(z)): smooth, as an ODE's field must be.
 * The last layer starts at zero, so a fresh field is 0 and a fresh continuous flow is the identity.
 */
import * as tf from '@tensorflow/tfjs';
import { branch, param, type Ops, type ValueTree } from '../../algebra/ops.js';
import type { ParamRecord, ShapeRecord } from '../params.js';
import { normals, seededRandom } from '../random.js';

/** Activations a field may use: smooth ones. */
export const fieldActivations = ['tanh', 'softplus'] as const;
export type FieldActivation = (typeof fieldActivations)[number];

/** Distributions of a Hutchinson probe: each has E[e e^T] = I, so E[e^T J e] = tr(J). */
export const probeKinds = ['rademacher', 'gaussian'] as const;
export type ProbeKind = (typeof probeKinds)[number];

/**
 * The probe e in R^d drawn from `seed` (mulberry32): independent +-1 signs (Rademacher, the smaller
 * variance: sum_{i<j} (J_ij + J_ji)^2, to which Gaussian probes add 2 sum_i J_ii^2) or standard
 * normals. Drawn in JavaScript, so every engine receives the same numbers as a constant.
 */
export const hutchinsonProbe = (kind: ProbeKind, seed: number, d: number): number[] => {
  const random = seededRandom(seed);
  const normal = normals(random);
  return Array.from({ length: d }, () => (kind === 'gaussian' ? normal() : random() < 0.5 ? -1 : 1));
};

/** The fields of a spec that shape its vector field. */
export interface FieldFields {
  /** Hidden widths [H_1, ..., H_L], at least one. */
  readonly hidden: readonly number[];
  readonly activation: FieldActivation;
  /** Number F of time frequencies (the embedding has 2F features). */
  readonly frequencies: number;
}

/** The angular frequencies w_k = pi (k + 1) of the time embedding. */
export const timeFrequencies = (f: number): number[] => Array.from({ length: f }, (_, k) => Math.PI * (k + 1));

/** Parameter shapes for events [d] and `contextWidth` conditioning features. */
export const fieldParamShapes = (spec: FieldFields, d: number, contextWidth: number): ShapeRecord => {
  const widths = [...spec.hidden, d];
  const first = widths[0] as number;
  return {
    dense0: { kernel: [d, first], time: [2 * spec.frequencies, first], ...(contextWidth > 0 ? { context: [contextWidth, first] } : {}), bias: [first] },
    ...Object.fromEntries(widths.slice(1).map((o, l) => [`dense${l + 1}`, { kernel: [widths[l] as number, o], bias: [o] }])),
  };
};

/** Uniform(+-1/sqrt(fan-in)) weights, as PyTorch's Linear, and a zero last layer (a zero field). */
export const initField = (spec: FieldFields, d: number, contextWidth: number, nextSeed: () => number): ParamRecord => {
  const shapes = fieldParamShapes(spec, d, contextWidth);
  const last = `dense${spec.hidden.length}`;
  const fanIn = d + 2 * spec.frequencies + contextWidth;
  return Object.fromEntries(
    Object.entries(shapes).map(([layer, group]) => {
      const entries = Object.entries(group as ShapeRecord).map(([name, shape]) => {
        const s = shape as number[];
        const bound = 1 / Math.sqrt(Math.max(1, layer === 'dense0' ? fanIn : (s[0] as number)));
        return [name, layer === last ? tf.zeros(s) : tf.randomUniform(s, -bound, bound, 'float32', nextSeed())] as const;
      });
      return [layer, Object.fromEntries(entries)];
    }),
  );
};

const activate = <T>(o: Ops<T>, activation: FieldActivation, z: T): T => (activation === 'tanh' ? o.tanh(z) : o.softplus(z));
/** act'(z), given h = act(z). */
const slope = <T>(o: Ops<T>, activation: FieldActivation, z: T, h: T): T => (activation === 'tanh' ? o.sub(o.scalar(1), o.square(h)) : o.sigmoid(z));

/** e(t) [.., 2F] for t a scalar or [N, 1]. */
const embedTime = <T>(o: Ops<T>, frequencies: number, t: T): T => {
  const wt = o.mul(t, o.constant(timeFrequencies(frequencies), [1, frequencies]));
  return o.concatLast([o.sin(wt), o.cos(wt)]);
};

/** The D x D identity, row-major. */
const identity = (dim: number): number[] => Array.from({ length: dim * dim }, (_, i) => (i % (dim + 1) === 0 ? 1 : 0));

/**
 * What `field` computes beside v: nothing (false), the exact divergence (true), or its Hutchinson
 * estimate along `probe` ([1, D] or [N, D], a value with E[e e^T] = I over its draws).
 */
export type DivergenceMode<T> = boolean | { readonly probe: T };

/**
 * v(x, t, c) and, when `divergence` asks, tr(dv/dx) per sample (exact, or the probe's estimate). x:
 * [N, D] (D = `dim`); t: a scalar or [N, 1]; context: [N, K] or undefined.
 */
export const field = <T>(
  o: Ops<T>,
  spec: FieldFields,
  params: ValueTree<T>,
  dim: number,
  x: T,
  t: T,
  context: T | undefined,
  divergence: DivergenceMode<T>,
): { readonly velocity: T; readonly divergence: T | undefined } => {
  const layers = spec.hidden.length;
  const first = branch(o, params, 'dense0');
  let z = o.add(o.add(o.matmul(x, param(o, first, 'kernel')), o.matmul(embedTime(o, spec.frequencies, t), param(o, first, 'time'))), param(o, first, 'bias'));
  if (context !== undefined) z = o.add(z, o.matmul(context, param(o, first, 'context')));
  // dz/dx: [D, H_1] (the same for every sample), then [N, D, H_l]; or (dz/dx) e: [1 or N, H_1], then [N, H_l].
  const probe = typeof divergence === 'object' ? divergence.probe : undefined;
  let jacobian: T | undefined = probe !== undefined ? o.matmul(probe, param(o, first, 'kernel')) : divergence === true ? param(o, first, 'kernel') : undefined;
  for (let l = 1; l <= layers; l++) {
    const h = activate(o, spec.activation, z);
    // The slope scales dz/dx's columns: [N, 1, H] against [D, H] (exact), [N, H] against [1 or N, H] (a direction).
    if (jacobian !== undefined) jacobian = o.mul(jacobian, probe !== undefined ? slope(o, spec.activation, z, h) : o.reshape(slope(o, spec.activation, z, h), [1, spec.hidden[l - 1] as number]));
    const layer = branch(o, params, `dense${l}`);
    const kernel = param(o, layer, 'kernel');
    z = o.add(o.matmul(h, kernel), param(o, layer, 'bias'));
    if (jacobian !== undefined) jacobian = o.matmul(jacobian, kernel);
  }
  if (jacobian === undefined) return { velocity: z, divergence: undefined };
  if (probe !== undefined) return { velocity: z, divergence: o.sumEvent(o.mul(jacobian, probe)) };
  return { velocity: z, divergence: o.sumEvent(o.mul(jacobian, o.constant(identity(dim), [dim, dim]))) };
};
