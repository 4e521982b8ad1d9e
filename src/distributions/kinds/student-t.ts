/**
 * Independent Student-t's over one vector event [D] (a `studentT` base), with learnt location m,
 * scale s = exp(logScale) and degrees of freedom nu = MIN_DF + softplus(rawDf) per dimension (so
 * nu > MIN_DF = 0.5 and the density stays finite): the base of a tail-adaptive flow (Jaini et al.
 * 2020; Laszkiewicz et al. 2022 learn a df per marginal).
 *
 *   log p(x) = sum_i [ lgamma((nu+1)/2) - lgamma(nu/2) - log(nu pi)/2 - log s - (nu+1)/2 log(1 + z^2/nu) ],  z = (x - m)/s
 *
 * lgamma is built from the algebra's ops (no engine needs its own): the recurrence lgamma(x) =
 * lgamma(x + 6) - log(x (x+1) ... (x+5)) and Stirling's series at x + 6 (error below 1e-9 for x > 0).
 * A draw is the normal scale mixture x = m + s g / sqrt(v), g ~ N(0, 1) (noise `noise`) and
 * v ~ Gamma(nu/2, rate nu/2) = chi^2_nu / nu (noise `precision`): differentiable in m and s, not in
 * nu (the engine draws v). Initialised at m = 0, s = 1, nu = 10 (or the data's mean and std).
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { HALF_LOG_2PI } from '../../algebra/normal.js';
import { param, type Ops, type ValueNode } from '../../algebra/ops.js';
import { tfjsOps } from '../../algebra/tfjs.js';
import { defineDistribution, recordOf } from './definition.js';
import { vectorEvent, vectorIssues } from './fields.js';

/**
 * Independent Student-t's over one vector event [D], each with a learnt location, scale and degrees
 * of freedom (nu = 0.5 + softplus(rawDf)): a heavy-tailed base whose tails are learnt per dimension.
 * Params `location`, `logScale`, `rawDf`, each [D].
 */
export interface StudentTSpec {
  readonly kind: 'studentT';
  readonly shape: readonly [number];
}

/** The smallest degrees of freedom the parametrisation allows. */
export const MIN_DF = 0.5;
const INITIAL_DF = 10;

/** log Gamma(x) for x > 0, elementwise, on the algebra (see the file comment). */
export const lgammaOn = <T>(o: Ops<T>, x: T): T => {
  let product = x;
  for (let k = 1; k < 6; k += 1) product = o.mul(product, o.add(x, o.scalar(k)));
  const y = o.add(x, o.scalar(6));
  const inv = o.div(o.scalar(1), y);
  const inv2 = o.square(inv);
  const c = (v: number): T => o.scalar(v);
  // 1/(12 y) - 1/(360 y^3) + 1/(1260 y^5) - 1/(1680 y^7)
  const series = o.mul(inv, o.add(c(1 / 12), o.mul(inv2, o.add(c(-1 / 360), o.mul(inv2, o.add(c(1 / 1260), o.mul(inv2, c(-1 / 1680))))))));
  const stirling = o.add(o.sub(o.mul(o.sub(y, c(0.5)), o.log(y)), y), o.add(series, c(HALF_LOG_2PI)));
  return o.sub(stirling, o.log(product));
};

/** log Gamma(x) of a tensor, x > 0 (tidied). */
export const lgamma = (x: tf.Tensor): tf.Tensor => tf.tidy(() => lgammaOn(tfjsOps, x));

/** The inverse of nu = MIN_DF + softplus(raw), for initialisation. */
const rawDfOf = (df: number): number => Math.log(Math.expm1(df - MIN_DF));

/** nu [D] from the parameters: the one place the parametrisation of the degrees of freedom is written. */
const degreesOfFreedom = <T>(o: Ops<T>, params: ValueNode<T>): T => o.add(o.softplus(param(o, recordOf(o, params, 'a studentT'), 'rawDf')), o.scalar(MIN_DF));

/** The `studentT` kind. */
export const studentTDefinition = defineDistribution<StudentTSpec>({
  kind: 'studentT',
  fields: ['shape'],
  decode: (json, path) => {
    const issues = vectorIssues(json['shape'], `${path}.shape`);
    return issues.length > 0 ? E.left(issues) : E.right({ kind: 'studentT', shape: [(json['shape'] as number[])[0] as number] });
  },
  encode: (spec) => ({ shape: [...spec.shape] }),
  events: (spec, path) => vectorEvent(spec.shape, `${path}.shape`),
  params: {
    shapes: ({ shape: [d] }) => ({ location: [d], logScale: [d], rawDf: [d] }),
    init: ({ shape: [d] }, { data }) => {
      const rawDf = tf.fill([d], rawDfOf(INITIAL_DF));
      const x = data?.[0];
      if (x === undefined || (x.shape[0] ?? 0) < 2) return { location: tf.zeros([d]), logScale: tf.zeros([d]), rawDf };
      const { mean, variance } = tf.moments(x, 0);
      return { location: mean, logScale: tf.mul(tf.log(tf.add(variance, 1e-12)), 0.5), rawDf };
    },
  },
  logProb: (o, _spec, params, [x]) => {
    if (x === undefined) throw new TypeError('studentT: expected one event tensor');
    const p = recordOf(o, params, 'a studentT');
    const nu = degreesOfFreedom(o, params);
    const logScale = param(o, p, 'logScale');
    const z = o.mul(o.sub(x, param(o, p, 'location')), o.exp(o.neg(logScale)));
    const half = o.mul(o.add(nu, o.scalar(1)), o.scalar(0.5));
    const constant = o.sub(o.sub(o.sub(lgammaOn(o, half), lgammaOn(o, o.mul(nu, o.scalar(0.5)))), o.mul(o.log(o.mul(nu, o.scalar(Math.PI))), o.scalar(0.5))), logScale); // [D]
    const body = o.mul(half, o.log1p(o.div(o.square(z), nu))); // [N,D]
    return o.sumEvent(o.sub(constant, body));
  },
  noise: (spec) => {
    const halfDf = <T>(o: Ops<T>, _spec: StudentTSpec, params: ValueNode<T>): T => o.mul(degreesOfFreedom(o, params), o.scalar(0.5));
    return [
      { name: 'noise', shape: spec.shape, law: { kind: 'normal' } },
      { name: 'precision', shape: spec.shape, law: { kind: 'gamma', concentration: halfDf, rate: halfDf } },
    ];
  },
  fromNoise: (o, _spec, params, [g, v]) => {
    if (g === undefined || v === undefined) throw new TypeError('studentT: expected the noise and precision tensors');
    const p = recordOf(o, params, 'a studentT');
    return [o.add(o.mul(o.div(g, o.sqrt(v)), o.exp(param(o, p, 'logScale'))), param(o, p, 'location'))];
  },
});
