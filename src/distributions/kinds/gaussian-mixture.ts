/**
 * A mixture of `components` full-covariance Gaussians over one vector event [D] (a `gaussianMixture` base):
 *
 *   log p(x) = logsumexp_k [ log softmax(logits)_k + sum_i log U_kii - |(x - mu_k) U_k|^2 / 2 - D log(2 pi) / 2 ]
 *
 * with U_k = strictUpper(precisionFactor_k) + diag(exp(diag precisionFactor_k)) (so U_k U_k^T is the
 * precision and (x - mu) U_k, a row times a matrix, is the whitened point). A draw takes a one-hot
 * component choice c [K] (noise `component`, categorical with the logits) and eps ~ N(0, I) (noise
 * `noise`), then x = mu_c + v with U_c^T v = eps, solved by forward substitution (D small steps: no
 * engine needs a triangular solve). Picking by one-hot products keeps a draw differentiable in the
 * means and precision factors (not in the logits: a discrete choice). Data-dependent initialisation
 * runs EM (src/distributions/em.ts) on the data in float64.
 */
import * as E from 'fp-ts/lib/Either.js';
import { LOG_2PI } from '../../algebra/normal.js';
import { param, type Ops, type ValueNode } from '../../algebra/ops.js';
import { initMixture } from '../mixture.js';
import { defineDistribution, recordOf } from './definition.js';
import { SpecError } from '../../dsl/errors.js';
import { positiveIntegerIssues, vectorEvent, vectorIssues } from './fields.js';

/**
 * A mixture of `components` full-covariance Gaussians over one vector event [D]:
 * p(x) = sum_k softmax(logits)_k N(x; means_k, (U_k U_k^T)^-1), each U_k upper triangular with a
 * positive diagonal (its precision's Cholesky factor, scikit-learn's precisions_cholesky). Learnt:
 * `logits` [K], `means` [K,D], `precisionFactor` [K,D,D] (U's strict upper triangle as is, its
 * diagonal as logs; the lower triangle is ignored). Initialised on data by EM (src/distributions/em.ts).
 */
export interface GaussianMixtureSpec {
  readonly kind: 'gaussianMixture';
  readonly shape: readonly [number];
  readonly components: number;
}

/** A D x D 0/1 mask, row-major. */
const mask = (d: number, keep: (i: number, j: number) => boolean): number[] => Array.from({ length: d * d }, (_, e) => (keep(Math.floor(e / d), e % d) ? 1 : 0));

/** U from the raw factor (any leading axes before the last two [D,D]), and the raw diagonal (zeros elsewhere). */
const factorOf = <T>(o: Ops<T>, raw: T, d: number): { u: T; diagonal: T } => {
  const eye = o.constant(mask(d, (i, j) => i === j), [d, d]);
  const diagonal = o.mul(raw, eye);
  // exp of the diagonal only: exp of a large off-diagonal entry would be inf, and inf * 0 is NaN.
  return { u: o.add(o.mul(raw, o.constant(mask(d, (i, j) => j > i), [d, d])), o.mul(eye, o.exp(diagonal))), diagonal };
};

/** Slice k of the first axis of a parameter [K, ...rest] (rest of rank 1 or 2): its value without that axis. */
const componentOf = <T>(o: Ops<T>, p: T, k: number, rest: readonly number[]): T => {
  const last = rest.length; // the axes of p are 0..last; move the component axis last, take k, drop it
  const perm = [...Array.from({ length: last }, (_, i) => i + 1), 0];
  return o.reshape(o.sliceLast(o.transpose(p, perm), k, 1), rest.slice(1));
};

/** log sum_k exp(terms_k) of values of one shape, stable (the largest term taken out). */
const logSumExp = <T>(o: Ops<T>, terms: readonly T[]): T => {
  const [first, ...rest] = terms;
  if (first === undefined) throw new TypeError('logSumExp of no terms');
  if (rest.length === 0) return first;
  const m = rest.reduce((acc, t) => o.maximum(acc, t), first);
  const sum = rest.reduce((acc, t) => o.add(acc, o.exp(o.sub(t, m))), o.exp(o.sub(first, m)));
  return o.add(m, o.log(sum));
};

/** The `gaussianMixture` kind. */
export const gaussianMixtureDefinition = defineDistribution<GaussianMixtureSpec>({
  kind: 'gaussianMixture',
  fields: ['shape', 'components'],
  decode: (json, path) => {
    const issues = [...vectorIssues(json['shape'], `${path}.shape`), ...positiveIntegerIssues(json['components'], `${path}.components`)];
    return issues.length > 0 ? E.left(issues) : E.right({ kind: 'gaussianMixture', shape: [(json['shape'] as number[])[0] as number], components: json['components'] as number });
  },
  encode: (spec) => ({ shape: [...spec.shape], components: spec.components }),
  events: (spec, path) => {
    const events = vectorEvent(spec.shape, `${path}.shape`);
    const issues = positiveIntegerIssues(spec.components, `${path}.components`);
    if (issues.length > 0) throw new SpecError(issues);
    return events;
  },
  params: {
    shapes: ({ shape: [d], components: k }) => ({ logits: [k], means: [k, d], precisionFactor: [k, d, d] }),
    init: (spec, { seed, data }) => initMixture(spec, seed, data?.[0]),
  },
  logProb: <T>(o: Ops<T>, { shape: [d], components: k }: GaussianMixtureSpec, params: ValueNode<T>, [x]: readonly T[]): T => {
    if (x === undefined) throw new TypeError('gaussianMixture: expected one event tensor');
    const p = recordOf(o, params, 'a gaussianMixture');
    const logits = param(o, p, 'logits');
    const means = param(o, p, 'means');
    const raw = param(o, p, 'precisionFactor');
    const weights = Array.from({ length: k }, (_, c) => o.sliceLast(logits, c, 1)); // [1] each
    const logNormaliser = logSumExp(o, weights);
    const terms = Array.from({ length: k }, (_, c) => {
      const { u, diagonal } = factorOf(o, componentOf(o, raw, c, [d, d]), d);
      const whitened = o.matmul(o.sub(x, componentOf(o, means, c, [d])), u); // [N,D]
      const constant = o.add(o.sub(weights[c] as T, logNormaliser), o.add(o.sumAll(diagonal), o.scalar(-0.5 * d * LOG_2PI)));
      return o.add(o.mul(o.sumLast(o.square(whitened)), o.scalar(-0.5)), constant);
    });
    return logSumExp(o, terms);
  },
  noise: ({ shape, components: k }) => [
    { name: 'component', shape: [k], law: { kind: 'categorical', logits: (o, _spec, params) => param(o, recordOf(o, params, 'a gaussianMixture'), 'logits') } },
    { name: 'noise', shape, law: { kind: 'normal' } },
  ],
  fromNoise: <T>(o: Ops<T>, { shape: [d] }: GaussianMixtureSpec, params: ValueNode<T>, [choice, eps]: readonly T[]): T[] => {
    if (choice === undefined || eps === undefined) throw new TypeError('gaussianMixture: expected the component and noise tensors');
    const p = recordOf(o, params, 'a gaussianMixture');
    const mean = o.matmul(choice, param(o, p, 'means')); // [N,D]
    const u = o.matmul(choice, o.reshape(factorOf(o, param(o, p, 'precisionFactor'), d).u, [d * d])); // [N,D*D], U_ji at j*D + i
    // U^T v = eps, U^T lower triangular: v_i = (eps_i - sum_{j<i} U_ji v_j) / U_ii.
    const v: T[] = [];
    for (let i = 0; i < d; i += 1) {
      let s = o.sliceLast(eps, i, 1);
      for (let j = 0; j < i; j += 1) s = o.sub(s, o.mul(o.sliceLast(u, j * d + i, 1), v[j] as T));
      v.push(o.div(s, o.sliceLast(u, i * d + i, 1)));
    }
    return [o.add(mean, o.concatLast(v))];
  },
});
