/**
 * CAFLOW's model maths, written once on the op algebra (docs/caflow.md §2-3):
 *
 *   log p(W | Y) = log|det dT/dW| + sum_i [ log N(z_i) + log|det dG_i/dL_i| ],   D = R(Y), L = T(W),
 *   log p(Y, W)  = lambda * log p_R(Y) + log p(W | Y),   log p_R(Y) = log N(D) + log|det dR/dY|,
 *
 * with G_i conditioned on the squeezed D_i and, for CAFLOW, on the squeezed L_j and D_j of every coarser
 * scale j > i. Generation runs the priors coarse to fine, then T^-1. An engine supplies the algebra and
 * how it runs one of the model's flows (tfjs: src/caflow/likelihood.ts and latents.ts; ONNX:
 * src/caflow/onnx.ts; float64 reference: src/caflow/reference.ts); everything else here is the model.
 */
import { standardNormalLogProb } from '../algebra/normal.js';
import type { Context, Ops } from '../algebra/ops.js';
import { spaceToDepthOn } from '../dsl/bijectors/squeeze.js';
import type { Direction } from '../dsl/fold.js';
import type { ParamTree } from '../dsl/params.js';
import { sizeOfAll, type Shape } from '../dsl/shape.js';
import { signature } from '../dsl/signature.js';
import type { FlowSpec } from '../dsl/spec.js';
import { dName, lName } from './conditional.js';
import type { CaflowSpec } from './model.js';
import type { CaflowParams } from './params.js';

/** One of the model's flows: the encoder R of the condition Y, the encoder T of the target W, or the prior G_i. */
export type CaflowFlow = { readonly name: 'R' } | { readonly name: 'T' } | { readonly name: 'G'; readonly index: number };

/** Where one of the model's flows sits: its spec, JSON path in the model spec and dotted parameter path. */
export interface CaflowFlowSite {
  readonly spec: FlowSpec;
  /** JSON path of the flow in the model spec, e.g. `$.priors[1]`. */
  readonly path: string;
  /** Dotted parameter path of the flow in the model's parameters, e.g. `G.1`. */
  readonly paramPath: string;
}

/** The spec and paths of one of the model's flows. */
export const flowSite = (m: CaflowSpec, flow: CaflowFlow): CaflowFlowSite => {
  switch (flow.name) {
    case 'R':
      return { spec: m.encoderY, path: '$.encoderY', paramPath: 'R' };
    case 'T':
      return { spec: m.encoderW, path: '$.encoderW', paramPath: 'T' };
    case 'G': {
      const spec = m.priors[flow.index];
      if (spec === undefined) throw new RangeError(`CAFLOW has ${m.priors.length} priors; there is no G_${flow.index}`);
      return { spec, path: `$.priors[${flow.index}]`, paramPath: `G.${flow.index}` };
    }
  }
};

/** The parameters of one of the model's flows. */
export const flowParams = (params: CaflowParams, flow: CaflowFlow): ParamTree => {
  const own = flow.name === 'G' ? params.G[flow.index] : params[flow.name];
  if (own === undefined) throw new RangeError(`CAFLOW's parameters have ${params.G.length} priors; there is no G_${flow.name === 'G' ? flow.index : ''}`);
  return own;
};

/** One pass of a flow on an engine: its outputs and log|det| per sample ([N]). */
export interface FlowPass<T> {
  readonly outs: readonly T[];
  readonly logDet: T;
}

/** An engine for CAFLOW: the op algebra, and how that engine runs one of the model's flows. */
export interface CaflowEngine<T> {
  readonly ops: Ops<T>;
  /** Runs `flow` in direction `dir` from `ins` (in that direction) with named conditioning `ctx`. */
  readonly pass: (flow: CaflowFlow, dir: Direction, ins: readonly T[], ctx: Context<T>) => FlowPass<T>;
}

const prior = (index: number): CaflowFlow => ({ name: 'G', index });

/**
 * The named conditioning of G_i: `D<i>`, and for CAFLOW `L<j>` and `D<j>` for every j > i, each the
 * squeezed latent. `sqL[j]` for j > i must be known (generation fills it coarse to fine).
 */
export const conditioningFor = <T>(m: CaflowSpec, i: number, sqL: readonly (T | undefined)[], sqD: readonly T[]): Context<T> => {
  const at = <V>(xs: readonly (V | undefined)[], j: number, what: string): V => {
    const x = xs[j];
    if (x === undefined) throw new RangeError(`conditioning of G_${i}: ${what}${j} is not computed yet`);
    return x;
  };
  const ctx: Record<string, T> = { [dName(i)]: at(sqD, i, 'D') };
  if (m.variant === 'caflow') {
    for (let j = i + 1; j < m.priors.length; j++) {
      ctx[lName(j)] = at(sqL, j, 'L');
      ctx[dName(j)] = at(sqD, j, 'D');
    }
  }
  return ctx;
};

/** Whether the target latent L_j conditions a finer prior: in CAFLOW, every L_j but the finest. */
const conditionsOn = (m: CaflowSpec, j: number): boolean => m.variant === 'caflow' && j > 0;

/** The squeezed (2x2 space-to-depth) latents, conditioning of the priors. */
const squeezed = <T>(o: Ops<T>, xs: readonly T[], shapes: readonly Shape[]): T[] => xs.map((x, j) => spaceToDepthOn(o, x, shapes[j] as Shape));

/** log N(z; 0, I) per sample of a flow's outputs together. */
const latentsLogProb = <T>(o: Ops<T>, zs: readonly T[], shapes: readonly Shape[]): T => standardNormalLogProb(o, zs, sizeOfAll(shapes));

/** R(Y): the condition's latents D, D squeezed for conditioning, and log|det dR/dY|. */
export interface EncodedCondition<T> {
  readonly d: readonly T[];
  readonly sqD: readonly T[];
  readonly logDetR: T;
}

/** Runs R on the condition Y (NHWC). */
export const encodeCondition = <T>(e: CaflowEngine<T>, m: CaflowSpec, y: T): EncodedCondition<T> => {
  const r = e.pass({ name: 'R' }, 'forward', [y], {});
  return { d: r.outs, sqD: squeezed(e.ops, r.outs, signature(m.encoderY).outs), logDetR: r.logDet };
};

/** log p_R(Y) = log N(D) + log|det dR/dY| per sample, from R's pass. */
export const conditionLogProb = <T>(o: Ops<T>, m: CaflowSpec, c: EncodedCondition<T>): T =>
  o.add(latentsLogProb(o, c.d, signature(m.encoderY).outs), c.logDetR);

/** The density direction: W to the priors' latents, with every term of log p(W | Y). */
export interface ToLatents<T> {
  /** z[i], the outputs of G_i (its latents at scales i..n-1 for CAFLOW; one for Dual-Glow+). */
  readonly z: readonly (readonly T[])[];
  /** log|det dT/dW| per sample. */
  readonly logDetT: T;
  /** log p_{G_i}(L_i | ...) = log N(z_i) + log|det dG_i/dL_i|, per prior and sample. */
  readonly priors: readonly T[];
  /** log p(W | Y) = log|det dT/dW| + sum_i priors[i], per sample. */
  readonly logp: T;
}

/** T, then G_0 .. G_{n-1} forward, given the squeezed condition latents `sqD`. */
export const toLatents = <T>(e: CaflowEngine<T>, m: CaflowSpec, w: T, sqD: readonly T[]): ToLatents<T> => {
  const o = e.ops;
  const t = e.pass({ name: 'T' }, 'forward', [w], {});
  const lShapes = signature(m.encoderW).outs;
  const sqL = t.outs.map((l, j) => (conditionsOn(m, j) ? spaceToDepthOn(o, l, lShapes[j] as Shape) : undefined));
  const z: (readonly T[])[] = [];
  const priors = m.priors.map((spec, i) => {
    const g = e.pass(prior(i), 'forward', [t.outs[i] as T], conditioningFor(m, i, sqL, sqD));
    z.push(g.outs);
    return o.add(latentsLogProb(o, g.outs, signature(spec).outs), g.logDet);
  });
  return { z, logDetT: t.logDet, priors, logp: priors.reduce((acc, p) => o.add(acc, p), t.logDet) };
};

/** The generation direction: W and its log p(W | Y). */
export interface FromLatents<T> {
  readonly w: T;
  /** log p(W | Y) of the generated W per sample, accumulated on the way (no second pass). */
  readonly logp: T;
}

/** G_{n-1}^-1, ..., G_0^-1 (each conditioned on the coarser L already made), then T^-1. */
export const fromLatents = <T>(e: CaflowEngine<T>, m: CaflowSpec, z: readonly (readonly T[])[], sqD: readonly T[]): FromLatents<T> => {
  const o = e.ops;
  const n = m.priors.length;
  const lShapes = signature(m.encoderW).outs;
  const L = new Array<T>(n);
  const sqL = new Array<T | undefined>(n).fill(undefined);
  let logp: T | undefined;
  for (let i = n - 1; i >= 0; i--) {
    const zi = z[i];
    if (zi === undefined) throw new RangeError(`fromLatents: expected latents for ${n} priors, got ${z.length}`);
    const back = e.pass(prior(i), 'inverse', zi, conditioningFor(m, i, sqL, sqD));
    const li = back.outs[0] as T;
    L[i] = li;
    if (conditionsOn(m, i)) sqL[i] = spaceToDepthOn(o, li, lShapes[i] as Shape);
    // log p_G(L_i) = log N(z) + log|det dG/dL| = log N(z) - log|det dL/dz|.
    const term = o.sub(latentsLogProb(o, zi, signature(m.priors[i] as FlowSpec).outs), back.logDet);
    logp = logp === undefined ? term : o.add(logp, term);
  }
  const t = e.pass({ name: 'T' }, 'inverse', L, {});
  if (logp === undefined) throw new RangeError('fromLatents: CAFLOW has no priors');
  return { w: t.outs[0] as T, logp: o.sub(logp, t.logDet) };
};

/** Every term of the objective, per sample (nats). */
export interface LikelihoodTerms<T> {
  /** lambda * log p_R(Y) + log p(W | Y). */
  readonly joint: T;
  /** log p(W | Y). */
  readonly conditional: T;
  /** log p_R(Y). */
  readonly logpY: T;
  /** log|det dT/dW|. */
  readonly logDetT: T;
  /** log p_{G_i}(L_i | ...), per prior. */
  readonly priors: readonly T[];
}

/** The joint objective and its terms for targets W and conditions Y (NHWC). */
export const likelihoodTerms = <T>(e: CaflowEngine<T>, m: CaflowSpec, w: T, y: T): LikelihoodTerms<T> => {
  const o = e.ops;
  const c = encodeCondition(e, m, y);
  const t = toLatents(e, m, w, c.sqD);
  const logpY = conditionLogProb(o, m, c);
  return { joint: o.add(o.mul(logpY, o.scalar(m.lambda)), t.logp), conditional: t.logp, logpY, logDetT: t.logDetT, priors: t.priors };
};

/** log p_R(Y) + log p_T(W) per sample: the encoders as unconditional flows (the pretraining objective). */
export const encodersLogProb = <T>(e: CaflowEngine<T>, m: CaflowSpec, w: T, y: T): T => {
  const o = e.ops;
  const logProb = (flow: CaflowFlow, x: T): T => {
    const p = e.pass(flow, 'forward', [x], {});
    return o.add(latentsLogProb(o, p.outs, signature(flowSite(m, flow).spec).outs), p.logDet);
  };
  return o.add(logProb({ name: 'R' }, y), logProb({ name: 'T' }, w));
};
