/**
 * One layer checked against its float64 self, to tell a wrong formula from float32's limits when a
 * law fails in float32 (verify's `reference: 'float64'`, and on any failure):
 *
 * - the laws in float64: the round trip, the inverse's log-det, and the log-det against log|det| of a
 *   central-difference Jacobian, all on the float64 engine at the layer's real (float32) input;
 * - how far the tfjs (float32) passes are from the float64 ones (`deviation`), against how far a
 *   correctly rounded float32 run of the same maths is (`budget`: the float64 engine rounding every op
 *   to float32), which is float32's own error for this formula at these values.
 *
 * A law that fails in float64 is a wrong formula; float32 passes farther from float64 than float32's
 * own error are a tfjs pass that does not compute the layer's maths (an override, or a test double);
 * otherwise the failure is float32's precision, and the digits it lost are log10(error / 2^-24).
 */
import type * as tf from '@tensorflow/tfjs';
import { paramsToFloat64, toFloat64 as widen } from '../algebra/float64-tfjs.js';
import { float32RoundedOps, float64Ops, float64Tensor, type Float64Tensor, type Float64Value } from '../algebra/float64.js';
import type { Ops } from '../algebra/ops.js';
import type { Context, Pass } from '../dsl/definition.js';
import { flip, type Direction } from '../dsl/fold.js';
import { slogdet } from '../dsl/maths/linalg.js';
import type { ParamRecord } from '../dsl/params.js';
import type { PrimitiveSpec } from '../dsl/spec.js';
import { algebraRun, NoAlgebraError } from './algebra-run.js';

/** float32's unit roundoff, 2^-24: a normalised error e leaves log10(e / 2^-24) of float32's 7.2 digits lost. */
export const FLOAT32_UNIT_ROUNDOFF = 2 ** -24;

/** Decimal digits of float32 lost to an error `e` (normalised as the laws are, |a - b| / (1 + |b|)). */
export const digitsLost = (e: number): number => Math.max(0, Math.log10(e / FLOAT32_UNIT_ROUNDOFF));

export interface Float64LayerCheck {
  /** max |x - back(pass(x))| / (1 + |x|) in float64. */
  readonly roundTrip: number;
  /** max |ldj + ldj_back| / (1 + |ldj|) in float64. */
  readonly logDetInverse: number;
  /** |ldj - log|det J|| / (1 + |log|det J||) in float64, J by central differences; undefined when too large. */
  readonly reference: number | undefined;
  /** max |float32 - float64| / (1 + |float64|) over the outputs and log-dets of the layer's pass and its way back. */
  readonly deviation: number;
  /** The same for a correctly rounded float32 run of the same maths: float32's own error here. */
  readonly budget: number;
  /** The round trip and the inverse's log-det of that correctly rounded float32 run: what float32 can do with this maths. */
  readonly rounded: { readonly roundTrip: number; readonly logDetInverse: number };
}

/** The float64 check of a layer, or why there is none (a kind not on the algebra yet). */
export type Float64Outcome = { readonly ok: true; readonly check: Float64LayerCheck } | { readonly ok: false; readonly note: string };

type Values = readonly Float64Tensor[];

const asTensors = (vs: readonly Float64Value[]): Values =>
  vs.map((v) => {
    if (!('data' in v)) throw new TypeError('float64 check: a pass returned a mask');
    return v;
  });


/** max |a - b| / (1 + |b|) elementwise over paired lists. */
const worst = (a: Values, b: Values): number =>
  a.reduce((m, x, k) => {
    const y = b[k] as Float64Tensor;
    let w = m;
    for (let i = 0; i < x.data.length; i++) w = Math.max(w, Math.abs((x.data[i] as number) - (y.data[i] as number)) / (1 + Math.abs(y.data[i] as number)));
    return Number.isNaN(w) ? Infinity : w;
  }, 0);

/** Sample `n` of a batch, repeated `times` times as a new batch. */
const tileSample = (t: Float64Tensor, n: number, times: number): Float64Tensor => {
  const per = t.data.length / (t.shape[0] as number);
  const data = new Float64Array(per * times);
  for (let k = 0; k < times; k++) data.set(t.data.subarray(n * per, (n + 1) * per), k * per);
  return { shape: [times, ...t.shape.slice(1)], data };
};

/**
 * log|det| of the layer's Jacobian at sample 0 by central differences in float64: one pass over a batch
 * of 2D copies of the sample, each input coordinate moved by +-h (error ~h^2 + 1e-16/h, ~1e-10).
 */
const differenceLogDet = (run: (xs: Values, ctx: Record<string, Float64Tensor>) => Values, xs: Values, ctx: Record<string, Float64Tensor>): number => {
  const sizes = xs.map((x) => x.data.length / (x.shape[0] as number));
  const size = sizes.reduce((a, b) => a + b, 0);
  const tiled = xs.map((x) => tileSample(x, 0, 2 * size));
  const steps: number[] = [];
  let j = 0;
  tiled.forEach((x, k) => {
    const per = sizes[k] as number;
    const sample = (xs[k] as Float64Tensor).data;
    for (let i = 0; i < per; i++, j++) {
      const at = sample[i] as number;
      const h = 1e-5 * (1 + Math.abs(at));
      steps.push(h);
      x.data[2 * j * per + i] = at + h;
      x.data[(2 * j + 1) * per + i] = at - h;
    }
  });
  const outs = run(tiled, Object.fromEntries(Object.entries(ctx).map(([name, c]) => [name, tileSample(c, 0, 2 * size)])));
  const outSizes = outs.map((y) => y.data.length / (y.shape[0] as number));
  const jacobian = new Float64Array(size * size);
  for (let col = 0; col < size; col++) {
    let row = 0;
    outs.forEach((y, k) => {
      const per = outSizes[k] as number;
      for (let i = 0; i < per; i++, row++) jacobian[row * size + col] = ((y.data[2 * col * per + i] as number) - (y.data[(2 * col + 1) * per + i] as number)) / (2 * (steps[col] as number));
    });
  }
  return slogdet(jacobian, size).logAbsDet;
};

/**
 * The float64 check of one layer run in direction `runs` at inputs `ins`, given its float32 pass there
 * (`pass`) and back (`back`, from pass.outs). Reference by central differences up to `maxReferenceSize` dims.
 */
export const float64LayerCheck = (
  layer: PrimitiveSpec,
  path: string,
  params: ParamRecord,
  ins: readonly tf.Tensor[],
  ctx: Context,
  runs: Direction,
  pass: Pass,
  back: Pass,
  maxReferenceSize: number,
): Float64Outcome => {
  // Parameters, inputs and context are float32 numbers: exact in either engine.
  const p64 = paramsToFloat64(params);
  const c64 = Object.fromEntries(Object.entries(ctx).map(([k, t]) => [k, widen(t)]));
  const engine =
    (o: Ops<Float64Value>) =>
    (dir: Direction, xs: Values): { readonly outs: Values; readonly logDet: Float64Tensor } => {
      const r = algebraRun(o, layer, p64, xs, c64, dir);
      return { outs: asTensors(r.outs), logDet: asTensors([r.logDet])[0] as Float64Tensor };
    };
  try {
    const f64 = engine(float64Ops);
    const f32 = engine(float32RoundedOps);
    const x = ins.map((t) => widen(t));
    const outs32 = pass.outs.map((t) => widen(t));
    const started = performance.now();
    const there = f64(runs, x);
    const perSample = (performance.now() - started) / (x[0]?.shape[0] ?? 1);
    const home = f64(flip(runs), there.outs);
    const back64 = f64(flip(runs), outs32);
    const there32 = f32(runs, x);
    const back32 = f32(flip(runs), outs32);
    const home32 = f32(flip(runs), there32.outs);
    const ld = there.logDet;
    /** max |ldj + ldj_back| / (1 + |ldj|). */
    const inverseLaw = (fwd: Float64Tensor, bwd: Float64Tensor): number => worst([float64Tensor(fwd.shape, bwd.data.map((v) => -v))], [fwd]);
    const deviation = Math.max(
      worst(outs32, there.outs),
      worst([widen(pass.logDet)], [ld]),
      worst(back.outs.map((t) => widen(t)), back64.outs),
      worst([widen(back.logDet)], [back64.logDet]),
    );
    const budget = Math.max(worst(there32.outs, there.outs), worst([there32.logDet], [ld]), worst(back32.outs, back64.outs), worst([back32.logDet], [back64.logDet]));
    const size = x.reduce((n, t) => n + t.data.length / (t.shape[0] as number), 0);
    // The Jacobian is 2·size passes of one sample: skipped where that would be slow (a wide conv net in plain JavaScript).
    const reference =
      size <= maxReferenceSize && 2 * size * perSample <= JACOBIAN_MILLISECONDS
        ? (() => {
            const ref = differenceLogDet((xs, c) => asTensors(algebraRun(float64Ops, layer, p64, xs, c, runs).outs), x, c64);
            return Math.abs((ld.data[0] as number) - ref) / (1 + Math.abs(ref));
          })()
        : undefined;
    const rounded = { roundTrip: worst(home32.outs, x), logDetInverse: inverseLaw(there32.logDet, home32.logDet) };
    return { ok: true, check: { roundTrip: worst(home.outs, x), logDetInverse: inverseLaw(ld, home.logDet), reference, deviation, budget, rounded } };
  } catch (e) {
    if (e instanceof NoAlgebraError) return { ok: false, note: `no float64 reference for '${e.kind}' at ${path}: its maths is not written on the op algebra yet` };
    // A diagnosis must not hide the failure it diagnoses: say why there is none.
    return { ok: false, note: `no float64 reference for '${layer.kind}' at ${path}: the float64 engine failed (${e instanceof Error ? e.message : String(e)})` };
  }
};

/** The longest the float64 central-difference Jacobian of one layer may take. */
const JACOBIAN_MILLISECONDS = 5000;

/** A law of a layer, as LayerCheck names its error. */
export type Law = 'roundTrip' | 'logDetInverse' | 'reference';

const lawName: Record<Law, string> = { roundTrip: 'round trip', logDetInverse: "inverse's log-det", reference: 'log-det against the Jacobian' };

/** How much farther from float64 than a correctly rounded float32 run the tfjs passes may be (tfjs composes some ops). */
const BUDGET_FACTOR = 16;
/** ... and a floor for maths whose correctly rounded run happens to be exact (16 ulps). */
const BUDGET_FLOOR = 16 * FLOAT32_UNIT_ROUNDOFF;

/** How far from float64 a layer's float32 passes may be: float32's own error there, with tfjs's slack. */
export const allowedDeviation = (c: Float64LayerCheck): number => Math.max(BUDGET_FACTOR * c.budget, BUDGET_FLOOR);

export interface Verdict {
  readonly cause: 'formula' | 'precision';
  /** For a precision failure: float32 digits lost by the law. */
  readonly digitsLost?: number;
  readonly detail: string;
  readonly remedy: string;
}

const fmt = (x: number): string => x.toExponential(1);

/** Why a layer fails `law` in float32 (error `error`, tolerance `tolerance`), from its float64 check. */
export const verdictOf = (c: Float64LayerCheck, law: Law, error: number, tolerance: number): Verdict => {
  const in64 = c[law];
  if (in64 !== undefined && !(in64 <= tolerance))
    return {
      cause: 'formula',
      detail: `the ${lawName[law]} fails in float64 too (${fmt(in64)}): a wrong formula`,
      remedy: "that layer's forward, inverse or log-det maths disagree whatever the precision: check its formulas",
    };
  if (!(c.deviation <= allowedDeviation(c)))
    return {
      cause: 'formula',
      detail: `its float32 passes differ from float64 by ${fmt(c.deviation)}, beyond float32's own error there (${fmt(c.budget)}): the tfjs pass does not compute the layer's maths`,
      remedy: "the layer's tfjs maths disagrees with its maths on the op algebra (a tfjs override, or a wrong op): compare the two",
    };
  const possible = law === 'reference' ? undefined : c.rounded[law];
  if (possible !== undefined && !(error <= BUDGET_FACTOR * Math.max(possible, FLOAT32_UNIT_ROUNDOFF)))
    return {
      cause: 'formula',
      detail: `a correctly rounded float32 run of the same maths keeps the ${lawName[law]} to ${fmt(possible)}, the tfjs passes lose more (${fmt(error)}): an op of this tfjs backend is less precise than float32 allows (a log1p computed as log(1 + x), say)`,
      remedy: 'try another --backend, or compute the op in a stable form in the tfjs engine (src/algebra/tfjs.ts)',
    };
  if (in64 === undefined)
    return {
      cause: 'formula',
      detail: `its float32 passes match float64 (${fmt(c.deviation)}), but its float64 Jacobian was not computed (too large or too slow here), so a wrong log-det formula cannot be ruled out`,
      remedy: "check the layer's log-det formula, or verify it at a smaller shape (its Jacobian is then computed in float64)",
    };
  const lost = digitsLost(error);
  return {
    cause: 'precision',
    digitsLost: lost,
    detail: `float32 precision, not a wrong formula: the ${lawName[law]} holds in float64 (${fmt(in64)}) and the float32 passes match float64 within float32's own error (${fmt(c.deviation)} vs ${fmt(c.budget)}); float32 loses ${lost.toFixed(1)} of its 7.2 digits here`,
    remedy: 'the layer is ill-conditioned at these values in float32: keep its parameters away from that range (e.g. a logit alpha far from 1), use a better-conditioned form of its maths, or loosen the tolerance',
  };
};
