/**
 * The tfjs passes of a `studentT` distribution (see StudentTSpec): independent Student-t's per
 * dimension with learnt location m, scale s = exp(logScale) and degrees of freedom
 * nu = minDf + softplus(rawDf) (so nu > minDf = 0.5 and the density stays finite), as the base of a
 * tail-adaptive flow (Jaini et al. 2020; Laszkiewicz et al. 2022 learn a df per marginal):
 *
 *   log p(x) = sum_i [ lgamma((nu+1)/2) - lgamma(nu/2) - log(nu pi)/2 - log s - (nu+1)/2 log(1 + z^2/nu) ],  z = (x - m)/s
 *
 * lgamma is built from differentiable ops (tfjs has none): the recurrence lgamma(x) =
 * lgamma(x + 6) - log(x (x+1) ... (x+5)) and Stirling's series at x + 6 (error below 1e-9 for x > 0).
 * Sampling: z = g / sqrt(w / nu), g ~ N(0, 1), w ~ chi^2_nu = Gamma(nu/2, rate 1/2) (one tf.randomGamma
 * per dimension, seeded); differentiable in m and s, not in nu. Initialised at m = 0, s = 1, nu = 10 (or
 * the data's mean and std with data).
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamRecord, ParamTree } from '../dsl/params.js';
import { seededNormal } from '../interpreters/seeded-normal.js';
import type { StudentTSpec } from './spec.js';

/** The smallest degrees of freedom the parametrisation allows. */
export const MIN_DF = 0.5;
const INITIAL_DF = 10;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

const tensorIn = (params: ParamTree, name: string, path: string): tf.Tensor => {
  const t = (params as ParamRecord)[name];
  if (!(t instanceof tf.Tensor)) throw new TypeError(`distribution params: missing tensor '${path === '' ? name : `${path}.${name}`}'`);
  return t;
};

/** log Gamma(x) for x > 0, elementwise, from differentiable ops (see the file comment). */
export const lgamma = (x: tf.Tensor): tf.Tensor =>
  tf.tidy(() => {
    let product = x;
    for (let k = 1; k < 6; k += 1) product = tf.mul(product, tf.add(x, k));
    const y = tf.add(x, 6);
    const inv = tf.reciprocal(y);
    const inv2 = tf.square(inv);
    // 1/(12 y) - 1/(360 y^3) + 1/(1260 y^5) - 1/(1680 y^7)
    const series = tf.mul(inv, tf.add(1 / 12, tf.mul(inv2, tf.add(-1 / 360, tf.mul(inv2, tf.add(1 / 1260, tf.mul(inv2, -1 / 1680)))))));
    const stirling = tf.add(tf.sub(tf.mul(tf.sub(y, 0.5), tf.log(y)), y), tf.add(series, HALF_LOG_2PI));
    return tf.sub(stirling, tf.log(product));
  });

/** The inverse of nu = MIN_DF + softplus(raw), for initialisation. */
const rawDfOf = (df: number): number => Math.log(Math.expm1(df - MIN_DF));

export const studentTParamShapes = ({ shape: [d] }: StudentTSpec): { location: number[]; logScale: number[]; rawDf: number[] } => ({ location: [d], logScale: [d], rawDf: [d] });

const dfOf = (params: ParamTree, path: string): tf.Tensor => tf.add(tf.softplus(tensorIn(params, 'rawDf', path)), MIN_DF);

/** log p(x) per row [N]. */
export const studentTLogProb = (params: ParamTree, x: tf.Tensor, path: string): tf.Tensor1D => {
  const nu = dfOf(params, path);
  const logScale = tensorIn(params, 'logScale', path);
  const z = tf.mul(tf.sub(x, tensorIn(params, 'location', path)), tf.exp(tf.neg(logScale)));
  const half = tf.mul(tf.add(nu, 1), 0.5);
  const constant = tf.sub(tf.sub(tf.sub(lgamma(half), lgamma(tf.mul(nu, 0.5))), tf.mul(tf.log(tf.mul(nu, Math.PI)), 0.5)), logScale); // [D]
  const body = tf.mul(half, tf.log1p(tf.div(tf.square(z), nu))); // [N,D]
  return tf.sum(tf.sub(constant, body), 1) as tf.Tensor1D;
};

/** n draws [n,D]: one seed for the normals, one per dimension for the chi-squares. */
export const studentTSample = (spec: StudentTSpec, params: ParamTree, n: number, nextSeed: () => number, path: string): tf.Tensor2D => {
  const d = spec.shape[0];
  const g = seededNormal([n, d], 1, nextSeed());
  const nus = Array.from(dfOf(params, path).dataSync());
  // chi^2_nu = 2 Gamma(nu/2, 1). tfjs 4.22's randomGamma multiplies by its `beta` (documented as a
  // rate, used as a scale), so it is drawn with beta = 1 and scaled here.
  const w = tf.mul(tf.stack(nus.map((nu) => tf.randomGamma([n], nu / 2, 1, 'float32', nextSeed())), 1), 2);
  const t = tf.mul(g, tf.sqrt(tf.div(tf.tensor1d(nus), w)));
  return tf.add(tf.mul(t, tf.exp(tensorIn(params, 'logScale', path))), tensorIn(params, 'location', path)) as tf.Tensor2D;
};

/** Fresh parameters: the data's mean and std per dimension when given (else 0 and 1), nu = 10. */
export const initStudentT = (spec: StudentTSpec, data: tf.Tensor | undefined): ParamRecord => {
  const d = spec.shape[0];
  const rawDf = tf.fill([d], rawDfOf(INITIAL_DF));
  if (data === undefined || (data.shape[0] ?? 0) < 2) return { location: tf.zeros([d]), logScale: tf.zeros([d]), rawDf };
  const { mean, variance } = tf.moments(data, 0);
  return { location: mean, logScale: tf.mul(tf.log(tf.add(variance, 1e-12)), 0.5), rawDf };
};
