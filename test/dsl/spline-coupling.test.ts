/** The rational-quadratic spline coupling's maths: invertibility, log-dets, tails, monotonicity, memory. */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { convNet, splineCoupling, type Shape3 } from '../../src/dsl/index.js';
import type { SplineCouplingSpec } from '../../src/dsl/spec.js';
import { DERIVATIVE_SHIFT } from '../../src/dsl/transformers/spline.js';
import { splineCouplingDefinition as definition } from '../../src/dsl/bijectors/spline-coupling.js';
import type { Context } from '../../src/dsl/definition.js';

/** The definition's parts on one NHWC tensor, as these tests call them. */
const kernel = {
  paramShapes: definition.params.shapes,
  init: definition.params.init,
  forward: (spec: SplineCouplingSpec, p: ParamRecord, x: tf.Tensor4D, ctx: Context): { out: tf.Tensor4D; logDet: tf.Tensor1D } => {
    const { outs, logDet } = definition.forward(spec, p, [x], ctx);
    return { out: outs[0] as tf.Tensor4D, logDet };
  },
  inverse: (spec: SplineCouplingSpec, p: ParamRecord, y: tf.Tensor4D, ctx: Context): { out: tf.Tensor4D; logDet: tf.Tensor1D } => {
    const { outs, logDet } = definition.inverse(spec, p, [y], ctx);
    return { out: outs[0] as tf.Tensor4D, logDet };
  },
};
import { disposeParams, flattenParams, mapParams, type ParamRecord, type ParamTree } from '../../src/dsl/params.js';

const COND_CHANNELS = 2;

const makeSpec = (shape: Shape3, bins: number, bound: number, withCond: boolean): SplineCouplingSpec =>
  splineCoupling(shape, {
    net: convNet({ hidden: 8 }),
    bins,
    bound,
    cond: withCond ? { c: [COND_CHANNELS, shape[1], shape[2]] as Shape3 } : {},
  }) as SplineCouplingSpec;

const seeds = (start: number): (() => number) => {
  let s = start;
  return () => s++;
};

const initParams = (spec: SplineCouplingSpec, seed: number): ParamRecord =>
  kernel.init(spec, { nextSeed: seeds(seed), random: Math.random });

/**
 * Init, then every net tensor replaced by N(0, std^2) values so the spline is far from the identity.
 * std 0.5 (with hidden 8 and inputs of std 2) gives network outputs of size ~5-10: bins at the 1e-3
 * minimum, slopes from ~1e-7 to ~1e3, a stress test; std 0.1 gives outputs of size ~0.5-2, a spline
 * like a trained one (slopes ~0.05..20).
 */
const randomParams = (spec: SplineCouplingSpec, seed: number, std = 0.5): ParamRecord => {
  const base = initParams(spec, seed);
  const next = seeds(seed + 1000);
  const randomised = mapParams(base, (t) => tf.randomNormal(t.shape, 0, std, 'float32', next())) as ParamRecord;
  disposeParams(base);
  return randomised;
};

interface Case {
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly k: number;
  readonly b: number;
  readonly n: number;
  readonly cond: boolean;
  readonly seed: number;
  readonly std: number;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  c: fc.constantFrom(2, 3, 4),
  h: fc.constantFrom(1, 2, 3),
  w: fc.constantFrom(1, 2, 3),
  k: fc.integer({ min: 2, max: 8 }),
  b: fc.constantFrom(1, 2, 3),
  n: fc.integer({ min: 1, max: 3 }),
  cond: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  std: fc.constantFrom(0.1, 0.5),
});

interface Setup {
  readonly spec: SplineCouplingSpec;
  readonly params: ParamRecord;
  readonly x: tf.Tensor4D;
  readonly ctx: Context;
  readonly dispose: () => void;
}

/** Spec, random params, inputs N(0, 2^2) (so with B <= 3 a fair share lands in the tails) and conditioning. */
const setup = ({ c, h, w, k, b, n, cond, seed, std }: Case): Setup => {
  const spec = makeSpec([c, h, w], k, b, cond);
  const params = randomParams(spec, seed, std);
  const x = tf.randomNormal([n, h, w, c], 0, 2, 'float32', seed + 7) as tf.Tensor4D;
  const ctx: Context = cond ? { c: tf.randomNormal([n, h, w, COND_CHANNELS], 0, 1, 'float32', seed + 11) as tf.Tensor4D } : {};
  return {
    spec,
    params,
    x,
    ctx,
    dispose: () => {
      disposeParams(params);
      x.dispose();
      Object.values(ctx).forEach((t) => t.dispose());
    },
  };
};

const c1Of = (spec: SplineCouplingSpec): number => Math.floor((spec.shape[0] as number) / 2);
const x2Of = (t: tf.Tensor4D, spec: SplineCouplingSpec): tf.Tensor4D =>
  tf.slice(t, [0, 0, 0, c1Of(spec)], [-1, -1, -1, -1]);

const flat = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** Worst errors seen per parameter std, printed at the end (for the record; the assertions are per case). */
const worstByStd = new Map<number, Record<string, number>>();
const record = (cs: Case, key: string, value: number): void => {
  const w = worstByStd.get(cs.std) ?? {};
  w[key] = Math.max(w[key] ?? 0, value);
  worstByStd.set(cs.std, w);
};
afterAll(() => worstByStd.forEach((w, std) => console.log(`spline coupling worst errors, param std ${std}:`, w)));

const RUNS = { numRuns: 100 };

describe('splineCoupling kernel: properties (fast-check)', () => {
  /*
   * Round trip tolerance. Inside [-B, B] the forward output y (|y| <= 3) carries a float32 rounding error
   * of a few ulp, |dy| <~ 1e-6 (a dozen ops of relative error 6e-8 each, on values of size <= 3). The
   * inverse maps that error back divided by the slope: |dx| ~ |dy| / (dy/dx) -- the slope is the condition
   * number of the inversion, and random std-0.5 nets give network outputs of size ~5-10, hence bins near
   * the 1e-3 minimum and slopes down to ~1e-7 in places. So per element we require
   * |x - x'| <= 1e-5 (1 + 1 / (dy/dx)), dy/dx from autodiff (checked against the log-det below).
   * In the tails and on x1 the map is the exact identity, so the error there must be exactly 0.
   */
  it('inverse(forward(x)) = x (|err| <= 1e-5 (1 + 1/slope) per element; exact in tails and x1)', () => {
    fc.assert(
      fc.property(caseArb, (cs) => {
        const s = setup(cs);
        try {
          const f = kernel.forward(s.spec, s.params, s.x, s.ctx);
          const g = kernel.inverse(s.spec, s.params, f.out, s.ctx);
          const diag = diagonal(s, s.x);
          const slopes = flat(diag);
          const xs = flat(s.x);
          const back = flat(g.out);
          const c = cs.c;
          const c1 = c1Of(s.spec);
          xs.forEach((v, i) => {
            const err = Math.abs((back[i] as number) - v);
            const ch = i % c;
            if (ch < c1 || Math.abs(v) > cs.b) {
              expect(err).toBe(0);
              return;
            }
            const slope = slopes[Math.floor(i / c) * (c - c1) + (ch - c1)] as number;
            const tol = 1e-5 * (1 + 1 / slope);
            record(cs, 'roundTrip', err);
            record(cs, 'roundTripOverTol', err / tol);
            expect(err).toBeLessThanOrEqual(tol);
          });
          tf.dispose([f.out, f.logDet, g.out, g.logDet, diag]);
        } finally {
          s.dispose();
        }
      }),
      RUNS,
    );
  });

  /*
   * log-det consistency. The inverse evaluates the log-slope where it lands, x' = inverse(y), not at x;
   * where the inversion is ill-conditioned (slopes ~1e-6, see above) x' is measurably off and the
   * log-slope legitimately differs by the forward's own change between x and x'. So we require
   *   |ldF(x) + ldI(y)| <= 2e-4 * n2 + |ldF(x) - ldF(x')|   (per sample, n2 = elements of x2),
   * i.e. ldI(y) = -ldF(x') up to float32 rounding: 2e-4 per element is ~200 ulp of an O(1..10) log value
   * (a dozen rounded ops, incl. logs of ratios; the excess observed per element stays below ~1e-4 even
   * with network outputs of size 10). For well-conditioned samples
   * the second term is ~0 and this is plain ldF(x) = -ldI(y).
   */
  it('forward log-det at x = -(inverse log-det at y = forward(x))', () => {
    fc.assert(
      fc.property(caseArb, (cs) => {
        const s = setup(cs);
        try {
          const f = kernel.forward(s.spec, s.params, s.x, s.ctx);
          const g = kernel.inverse(s.spec, s.params, f.out, s.ctx);
          const f2 = kernel.forward(s.spec, s.params, g.out, s.ctx);
          const n2 = cs.h * cs.w * (cs.c - c1Of(s.spec));
          const [a, b, a2] = [f.logDet, g.logDet, f2.logDet].map(flat) as [number[], number[], number[]];
          a.forEach((v, i) => {
            const err = Math.abs(v + (b[i] as number));
            const drift = Math.abs(v - (a2[i] as number));
            record(cs, 'ldjInverse', err);
            record(cs, 'ldjInverseExcessPerElement', (err - drift) / n2);
            expect(err).toBeLessThanOrEqual(2e-4 * n2 + drift);
          });
          tf.dispose([f.out, f.logDet, g.out, g.logDet, f2.out, f2.logDet]);
        } finally {
          s.dispose();
        }
      }),
      RUNS,
    );
  });

  /*
   * The Jacobian is block-triangular (x1 passes through; y2 depends on x2 elementwise given x1), so
   * log|det J| = sum log dy2_i/dx2_i. tf.grad of sum(y2) w.r.t. x2 with x1 held fixed returns exactly that
   * diagonal. Tolerance per element: 1e-4 + 1e-6 / slope. The closed-form log-derivative adds positive
   * terms only (accurate to a few ulp); autodiff of the RQ formula differentiates a quotient, a difference
   * of O(1) products with float32 absolute error ~1e-7..1e-6, so its relative error grows like 1e-6/slope
   * where the spline is nearly flat.
   */
  it('log-det = sum log of the autodiff Jacobian diagonal; the diagonal is positive', () => {
    fc.assert(
      fc.property(caseArb, (cs) => {
        const s = setup(cs);
        try {
          const diag = diagonal(s, s.x);
          const f = kernel.forward(s.spec, s.params, s.x, s.ctx);
          const d = flat(diag);
          d.forEach((v) => expect(v).toBeGreaterThan(0));
          const perSample = d.length / cs.n;
          const want = Array.from({ length: cs.n }, (_, i) => d.slice(i * perSample, (i + 1) * perSample));
          flat(f.logDet).forEach((v, i) => {
            const row = want[i] as number[];
            const tol = row.reduce((t, slope) => t + 1e-4 + 1e-6 / slope, 0);
            const err = Math.abs(v - row.reduce((acc, slope) => acc + Math.log(slope), 0));
            record(cs, 'ldjAutodiff', err);
            record(cs, 'ldjAutodiffOverTol', err / tol);
            expect(err).toBeLessThanOrEqual(tol);
          });
          tf.dispose([diag, f.out, f.logDet]);
        } finally {
          s.dispose();
        }
      }),
      RUNS,
    );
  });

  it('elements outside [-B, B] and all of x1 are unchanged, exactly, both ways; inside stays inside', () => {
    fc.assert(
      fc.property(caseArb, (cs) => {
        const s = setup(cs);
        try {
          const f = kernel.forward(s.spec, s.params, s.x, s.ctx);
          const g = kernel.inverse(s.spec, s.params, s.x, s.ctx);
          const xs = flat(s.x);
          const ys = flat(f.out);
          const zs = flat(g.out);
          const c1 = c1Of(s.spec);
          xs.forEach((v, i) => {
            if (i % cs.c < c1 || Math.abs(v) > cs.b) {
              expect(ys[i]).toBe(v);
              expect(zs[i]).toBe(v);
            } else {
              // the spline maps [-B, B] onto itself
              expect(Math.abs(ys[i] as number)).toBeLessThanOrEqual(cs.b + 1e-6);
              expect(Math.abs(zs[i] as number)).toBeLessThanOrEqual(cs.b + 1e-6);
            }
          });
          tf.dispose([f.out, f.logDet, g.out, g.logDet]);
        } finally {
          s.dispose();
        }
      }),
      RUNS,
    );
  });

  /*
   * Exact arithmetic gives a strict increase; in float32 a step of >= 0.01 over a nearly flat stretch
   * (slope ~1e-7, see above) can round to the same y, so y2' >= y2 is what is checked here (and strict
   * increase along a dense grid at moderate slopes in the unit tests).
   */
  it('monotonic: increasing x2 (x1 fixed) never decreases y2, elementwise, both directions', () => {
    fc.assert(
      fc.property(caseArb, (cs) => {
        const s = setup(cs);
        const c1 = c1Of(s.spec);
        const x2Mask = tf.tidy(() => tf.concat([tf.zeros([cs.n, cs.h, cs.w, c1]), tf.ones([cs.n, cs.h, cs.w, cs.c - c1])], 3));
        const delta = tf.randomUniform([cs.n, cs.h, cs.w, cs.c], 0.01, 1, 'float32', cs.seed + 3);
        const xp = tf.tidy(() => tf.add(s.x, tf.mul(delta, x2Mask)) as tf.Tensor4D);
        try {
          for (const pass of [kernel.forward, kernel.inverse]) {
            const f = pass(s.spec, s.params, s.x, s.ctx);
            const fp = pass(s.spec, s.params, xp, s.ctx);
            const y = flat(f.out);
            const yp = flat(fp.out);
            y.forEach((v, i) => {
              if (i % cs.c < c1) expect(yp[i]).toBe(v);
              else expect(yp[i] as number).toBeGreaterThanOrEqual(v);
            });
            tf.dispose([f.out, f.logDet, fp.out, fp.logDet]);
          }
        } finally {
          tf.dispose([x2Mask, delta, xp]);
          s.dispose();
        }
      }),
      RUNS,
    );
  });

  it('leaks no tensors: numTensors is unchanged after forward + inverse (outputs disposed)', () => {
    fc.assert(
      fc.property(caseArb, (cs) => {
        const s = setup(cs);
        try {
          const before = tf.memory().numTensors;
          const f = kernel.forward(s.spec, s.params, s.x, s.ctx);
          const g = kernel.inverse(s.spec, s.params, f.out, s.ctx);
          expect(tf.memory().numTensors).toBe(before + 4);
          tf.dispose([f.out, f.logDet, g.out, g.logDet]);
          expect(tf.memory().numTensors).toBe(before);
        } finally {
          s.dispose();
        }
      }),
      { numRuns: 20 },
    );
  });
});

/** The Jacobian diagonal dy2/dx2 at x, by autodiff (x1 and the conditioning held fixed). */
function diagonal(s: Setup, x: tf.Tensor4D): tf.Tensor4D {
  const c1 = c1Of(s.spec);
  const [x1, x2] = tf.split(x, [c1, (s.spec.shape[0] as number) - c1], 3) as [tf.Tensor4D, tf.Tensor4D];
  const g = tf.grad((z: tf.Tensor) => {
    const { out, logDet } = kernel.forward(s.spec, s.params, tf.concat([x1, z as tf.Tensor4D], 3), s.ctx);
    logDet.dispose();
    return tf.sum(x2Of(out, s.spec));
  })(x2) as tf.Tensor4D;
  tf.dispose([x1, x2]);
  return g;
}

describe('splineCoupling kernel: unit facts', () => {
  /*
   * K = 2, B = 1, C = 2 ([2, 1, 6]); the net's last layer is zero except its bias, so every element gets
   * the raw parameters [uw0, uw1, uh0, uh1, ud] = [0, 0, 0, ln 3, ud] with softplus(ud + shift) + 1e-3 = 2:
   *   widths: softmax [1/2, 1/2] -> exactly [1, 1]; x knots -1, 0, 1
   *   heights: 1e-3 + 0.998 * [1/4, 3/4] = [0.2505, 0.7495], times 2B: [0.501, 1.499]; y knots -1, -0.499, 1
   *   derivatives at the knots: 1, 2, 1
   * x = -0.5: bin 0, xi = 1/2, s = 0.501, d_k = 1, d_k+1 = 2, denom = 0.501 + (3 - 1.002)/4 = 1.0005
   *   y = -1 + 0.501 (0.501/4 + 1/4) / 1.0005 = -0.8120937031484258
   *   dy/dx = 0.501^2 (2/4 + 2*0.501/4 + 1/4) / 1.0005^2 = 0.2508755622188905
   * x = 0.5: bin 1, xi = 1/2, s = 1.499, d_k = 2, d_k+1 = 1, denom = 1.499 + (3 - 2.998)/4 = 1.4995
   *   y = -0.499 + 1.499 (1.499/4 + 2/4) / 1.4995 = 0.3754583194398132
   *   dy/dx = 1.499^2 (1/4 + 2*1.499/4 + 2/4) / 1.4995^2 = 1.4985001667222408
   * knots: -1 -> -1 (slope 1), 0 -> -0.499 (slope 2), 1 -> 1 (slope 1); x = 2 is in the tail: y = 2, slope 1.
   */
  it('matches a hand-computed K = 2 spline', () => {
    const spec = makeSpec([2, 1, 6], 2, 1, false);
    const base = initParams(spec, 1);
    const ud = Math.log(Math.expm1(1.999)) - DERIVATIVE_SHIFT;
    const params = mapParams(base, (t, path) =>
      path === 'net.conv2.bias' ? tf.tensor1d([0, 0, 0, Math.log(3), ud]) : tf.clone(t),
    ) as ParamRecord;
    disposeParams(base);
    const xs2 = [-0.5, 0.5, 2, -1, 0, 1];
    const x = tf.tensor4d(xs2.flatMap((v, i) => [0.3 * i - 1, v]), [1, 1, 6, 2]);
    const f = kernel.forward(spec, params, x, {});
    const y2 = flat(f.out).filter((_, i) => i % 2 === 1);
    const want = [-0.8120937031484258, 0.3754583194398132, 2, -1, -0.499, 1];
    y2.forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 5));
    const ldj = Math.log(0.2508755622188905) + Math.log(1.4985001667222408) + Math.log(2);
    expect(f.logDet.dataSync()[0]).toBeCloseTo(ldj, 5);
    const g = kernel.inverse(spec, params, f.out, {});
    flat(g.out).forEach((v, i) => expect(v).toBeCloseTo(flat(x)[i] as number, 5));
    expect(g.logDet.dataSync()[0]).toBeCloseTo(-ldj, 5);
    tf.dispose([x, f.out, f.logDet, g.out, g.logDet]);
    disposeParams(params);
  });

  it('is the identity at init (zero last layer + derivative shift), log-det 0', () => {
    for (const k of [1, 2, 5]) {
      const spec = makeSpec([3, 2, 2], k, 2, true);
      const params = initParams(spec, 5);
      const x = tf.randomNormal([2, 2, 2, 3], 0, 2, 'float32', 9) as tf.Tensor4D;
      const ctx = { c: tf.randomNormal([2, 2, 2, COND_CHANNELS], 0, 1, 'float32', 10) as tf.Tensor4D };
      for (const pass of [kernel.forward, kernel.inverse]) {
        const { out, logDet } = pass(spec, params, x, ctx);
        const a = flat(x);
        flat(out).forEach((v, i) => expect(Math.abs(v - (a[i] as number))).toBeLessThan(1e-5));
        flat(logDet).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-5));
        tf.dispose([out, logDet]);
      }
      tf.dispose([x, ctx.c]);
      disposeParams(params);
    }
  });

  it('paramShapes: the net maps c1 + cond channels to c2 (3K - 1) channels, and init matches', () => {
    const spec = makeSpec([5, 2, 2], 4, 2, true);
    const shapes = kernel.paramShapes(spec) as { net: { conv0: { kernel: number[] }; conv2: { kernel: number[]; bias: number[] } } };
    expect(shapes.net.conv0.kernel[2]).toBe(2 + COND_CHANNELS);
    expect(shapes.net.conv2.bias).toEqual([3 * 11]);
    const params = initParams(spec, 0);
    const byPath = new Map(flattenParams(params as ParamTree).map(([p, t]) => [p, t.shape]));
    expect(byPath.get('net.conv2.kernel')).toEqual(shapes.net.conv2.kernel);
    disposeParams(params);
  });

  it('the spline is continuous and nondecreasing along a dense grid across [-B-1, B+1]', () => {
    // Every sample has the same x1 and a 1x1 image, so all share one spline; x2 sweeps the grid.
    const spec = makeSpec([2, 1, 1], 6, 2, false);
    const params = randomParams(spec, 42);
    const n = 2001;
    const grid = Array.from({ length: n }, (_, i) => -3 + (6 * i) / (n - 1));
    const x = tf.tensor4d(grid.flatMap((v) => [0.7, v]), [n, 1, 1, 2]);
    const f = kernel.forward(spec, params, x, {});
    const y = flat(f.out).filter((_, i) => i % 2 === 1);
    const slopes = flat(f.logDet).map(Math.exp);
    const maxSlope = Math.max(...slopes);
    const h = 6 / (n - 1);
    for (let i = 1; i < n; i++) {
      const dy = (y[i] as number) - (y[i - 1] as number);
      expect(dy).toBeGreaterThanOrEqual(0);
      expect(dy).toBeLessThanOrEqual(maxSlope * h * (1 + 1e-3) + 1e-6); // no jumps (mean value theorem)
    }
    tf.dispose([x, f.out, f.logDet]);
    disposeParams(params);
  });

  it('gradients w.r.t. every parameter and the input are finite, tails included (cpu backend)', () => {
    const spec = makeSpec([3, 2, 2], 5, 1, true);
    const params = randomParams(spec, 3);
    const leaves = flattenParams(params as ParamTree).map(([, t]) => t);
    // std 2 with B = 1: most elements are in the tails; also exact knots/bounds
    const x = tf.tidy(() => {
      const r = tf.randomNormal([3, 2, 2, 3], 0, 2, 'float32', 4);
      return tf.concat([r.slice([0], [2]), tf.fill([1, 2, 2, 3], 1)], 0) as tf.Tensor4D;
    });
    const ctx = { c: tf.randomNormal([3, 2, 2, COND_CHANNELS], 0, 1, 'float32', 6) as tf.Tensor4D };
    const loss = (xIn: tf.Tensor4D) => (): tf.Scalar => {
      const f = kernel.forward(spec, params, xIn, ctx);
      const g = kernel.inverse(spec, params, xIn, ctx);
      return tf.sum(tf.stack([tf.sum(tf.square(f.out)), tf.sum(f.logDet), tf.sum(tf.square(g.out)), tf.sum(g.logDet)])) as tf.Scalar;
    };
    // tf.grads differentiates w.r.t. tensor identity, so the params the kernel closes over are the leaves.
    const grads = tf.grads((...args: tf.Tensor[]) => loss(args[0] as tf.Tensor4D)())([x, ...leaves]);
    expect(grads.length).toBe(leaves.length + 1);
    for (const g of grads) flat(g).forEach((v) => expect(Number.isFinite(v)).toBe(true));
    // the gradient w.r.t. the final layer's bias is nonzero: the spline parameters do get gradients
    expect(flat(grads[grads.length - 1] as tf.Tensor).some((v) => v !== 0)).toBe(true);
    tf.dispose(grads);
    tf.dispose([x, ctx.c]);
    disposeParams(params);
  });
});
