/**
 * Property checks of a flow on random inputs at its declared shapes: the invariants every bijector
 * must satisfy, as used by the test suite and by `typed-flows verify` on a user's own spec.
 *
 * - round trip: inverse(forward(x)) = x, and forward(inverse(y)) = y
 * - log-dets agree: forward log|det J|(x) = -inverse log|det J|(forward(x))
 * - the log-det equals log|det| of the dense Jacobian from autodiff: of the whole flow when it is
 *   small, and of every layer at its real input otherwise (on the layer, or on a reduced copy of it)
 * - the outputs have the shapes the shape interpreter infers
 * - a pass leaves tf.memory().numTensors unchanged
 *
 * A failing check names the first layer where the same law fails at that layer's own input, says
 * whether its inputs had left its domain or its values overflowed, and suggests a remedy.
 *
 * Parameters: by default fresh ones initialised on the drawn inputs (so each ActNorm normalises its
 * own input) and perturbed layer by layer as the inputs flow through, with noise that shrinks with
 * depth. Activations then stay O(1) at any depth, where the same noise at every layer of a 32-step
 * Glow grew them to 1e17.
 */
import * as tf from '@tensorflow/tfjs';
import type { Context, Domain } from '../dsl/definition.js';
import { fold, type FoldTable } from '../dsl/fold.js';
import { disposeParams, mapParams, type ParamRecord, type ParamTree } from '../dsl/params.js';
import { seededRandom } from '../dsl/random.js';
import { estimatesLogDet, withExactTraces } from '../dsl/bijectors/cnf.js';
import { definitionOf, definitions } from '../dsl/registry.js';
import { formatShape, sizeOf, tensorShape, type Shape } from '../dsl/shape.js';
import { signature } from '../dsl/signature.js';
import type { FlowSpec, PrimitiveSpec } from '../dsl/spec.js';
import { domains, hasBoundedImage } from './domains.js';
import { init } from './init.js';
import { allowedDeviation, verdictOf, type Law } from './float64-checks.js';
import { checkLayers, type LayerCheck } from './layer-checks.js';
import { paramInfo } from './param-shapes.js';
import { referenceLogDet } from './reference.js';
import { seededNormal } from './seeded-normal.js';
import { forward, inverse } from './transform.js';

/** The relative tolerances of `verify`'s numerical checks. */
export interface Tolerances {
  /** |x - inverse(forward(x))| <= roundTrip * (1 + |x|), elementwise. */
  readonly roundTrip: number;
  /** |fldj + ildj| <= logDet * (1 + |fldj|), per sample. */
  readonly logDet: number;
  /** |fldj - reference| <= reference * (1 + |reference|), per sample. */
  readonly reference: number;
}

/**
 * float32 has a 6e-8 unit roundoff. One layer's pass there and back loses a few ulps, amplified by
 * its conditioning (exp(|s|) <= e^2 for the clamped couplings): errors near 1e-6 per layer. Through a
 * flow they add up (they do not compound as long as activations stay O(1), which the default
 * parameters ensure), so the flow-level round-trip and log-det tolerances grow with the number of
 * layers L: 1e-4 up to 32 layers, then 1e-4 * L / 32 (a Glow of 128 steps, 384 layers: 1.2e-3).
 * Wrong formulas give errors of order 1 at the layer where they are, which the per-layer checks keep
 * at 1e-4 whatever the depth. The dense-Jacobian reference is a float64 determinant of a float32
 * matrix, whose error grows with its size and condition number, hence its looser 1e-3.
 */
export const defaultTolerances: Tolerances = { roundTrip: 1e-4, logDet: 1e-4, reference: 1e-3 };

export type CheckName =
  | 'shapes'
  | 'round trip'
  | 'reverse round trip'
  | 'log-det inverse'
  | 'log-det reference'
  | 'log-det reference (per layer)'
  | 'float64 reference'
  | 'tensor leak';

/** One law `verify` checked: whether it held, the worst error against its tolerance, and where it first fails. */
export interface Check {
  readonly name: CheckName;
  readonly passed: boolean;
  /** The worst normalised error seen (0 for exact checks). */
  readonly worst: number;
  readonly tolerance: number;
  readonly detail: string;
  /** Where a failure first appears: the path of the first layer that fails the same law on its own input. */
  readonly layer?: string;
  /**
   * Why, when it can be told: inputs outside that layer's domain, overflow, float32 precision (the
   * layer agrees with its float64 self, which keeps the law), an ODE solver too coarse for its field
   * (a continuous layer whose law fails in float64 too: the solver's discretisation error), or a wrong
   * formula.
   */
  readonly cause?: 'domain' | 'overflow' | 'precision' | 'solver' | 'formula';
  /** For a layer's precision failure: the decimal digits of float32's 7.2 that the law lost there. */
  readonly digitsLost?: number;
  /** What to try. */
  readonly remedy?: string;
}

/** What `verify` returns: whether every check passed, each check, and the checks not run. */
export interface VerifyReport {
  readonly passed: boolean;
  readonly checks: readonly Check[];
  /** Checks not run, and why (e.g. no dense Jacobian of a 3,072-dimensional flow). */
  readonly notes: readonly string[];
}

/** Options of `verify`. */
export interface VerifyOptions {
  /** Seed of the inputs, initialisation and perturbation (default 0). */
  readonly seed?: number;
  /** Samples per check (default 2). */
  readonly batch?: number;
  /** Parameters to check; by default fresh ones initialised on the inputs and perturbed (see the module comment). */
  readonly params?: ParamTree;
  /** Std of the noise added to fresh trainable parameters at a depth of up to 16 layers (default 0.2). */
  readonly perturb?: number;
  readonly tolerances?: Partial<Tolerances>;
  /** Dense Jacobians up to this many dimensions per sample (default 256): the whole flow's, else each layer's. */
  readonly maxReferenceSize?: number;
  /**
   * 'float64': check every layer against its float64 self (src/algebra/float64.ts) as a check of its
   * own. Without it, only layers that fail a law are, to tell a wrong formula from float32's limits.
   */
  readonly reference?: 'float64';
}

/**
 * Random channels-last inputs of the given shapes, drawn from each input's domain: N(0,1) on the reals
 * (clipped to the middle 98% of an interval that holds [-1, 1]), uniform inside the middle 98% of
 * another bounded interval, and log-normal from a half-bounded one's end.
 */
export const sampleInputs = (shapes: readonly Shape[], doms: readonly Domain[], batch: number, seed: number): tf.Tensor[] =>
  shapes.map((s, i) => {
    const d = doms[i] ?? { kind: 'real' };
    const shape = tensorShape(s, batch);
    // A parameter-dependent subset is never an input requirement; drawn as reals if one is passed.
    if (d.kind !== 'interval') return seededNormal(shape, 1, seed + i);
    const margin = 0.01 * (d.high - d.low);
    // An interval around the unit ball (a sigmoid's input, (-12.2, 12.2) at alpha 1e-5) is sampled
    // like the reals, inside it: its far ends are valid but lose most float32 digits on the way back.
    if (d.low <= -1 && d.high >= 1) return tf.tidy(() => tf.clipByValue(seededNormal(shape, 1, seed + i), d.low + margin, d.high - margin));
    if (Number.isFinite(d.low) && Number.isFinite(d.high)) return tf.randomUniform(shape, d.low + margin, d.high - margin, 'float32', seed + i);
    return tf.tidy(() => {
      const positive = tf.exp(seededNormal(shape, 1, seed + i));
      return Number.isFinite(d.low) ? tf.add(positive, d.low) : Number.isFinite(d.high) ? tf.sub(d.high, positive) : seededNormal(shape, 1, seed + i);
    });
  });

/**
 * The std of the noise for one tensor: `std` for shifts and log-scales, `std / sqrt(fanIn)` for
 * parameters that multiply their input (as each definition declares), so that a perturbed C x C mixer
 * stays well conditioned whatever C (noise of a fixed std on a 24 x 24 orthogonal matrix has a
 * spectral norm near 2 and can make it almost singular).
 */
const noiseStd = (mixing: boolean, shape: readonly number[], std: number): number => {
  if (!mixing || shape.length < 2) return std;
  const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return std / Math.sqrt(fanIn);
};

/** Fresh params (no data) plus Gaussian noise on every trainable tensor. */
export const perturbedParams = (spec: FlowSpec, seed: number, std: number): ParamTree => {
  const fresh = init(spec, { seed });
  const info = new Map(paramInfo(spec).map((p) => [p.path, p]));
  const random = seededRandom(seed + 1);
  const perturbed = mapParams(fresh, (t, path) =>
    tf.tidy(() => {
      const p = info.get(path);
      return p?.trainable === true ? tf.add(t, seededNormal(t.shape, noiseStd(p.mixing, t.shape, std), Math.floor(random() * 2 ** 31))) : tf.clone(t);
    }),
  );
  disposeParams(fresh);
  return perturbed;
};

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Primitive layers that `counts`, each copy of a repeat included. */
const countLayers = (spec: FlowSpec, counts: (layer: PrimitiveSpec) => boolean = () => true): number =>
  fold(spec, { primitive: (layer) => ({ outs: undefined, result: counts(layer) ? 1 : 0 }), sequence: sum, parallel: sum, invert: (n) => n }).result;

/** Does a layer have trainable parameters? */
const learnable = (layer: PrimitiveSpec): boolean => {
  const { shapes, frozen } = definitionOf(layer).params;
  return Object.keys(shapes(layer)).some((name) => !frozen.includes(name));
};

/**
 * Parameters initialised on `xs` and perturbed layer by layer as the data flows through the flow: each
 * layer's data-dependent initialisation (ActNorm) sees the perturbed layers before it, so every layer's
 * output stays normalised whatever the depth. The noise std is `std` up to 16 learnable layers and
 * `std * sqrt(16 / L)` beyond, so that the product of L perturbed mixing matrices stays well
 * conditioned (1,000 perturbed 1x1 convolutions at a fixed std drift far enough that a float32 dense
 * Jacobian can no longer tell their log-det).
 */
export const dataPerturbedParams = (spec: FlowSpec, xs: readonly tf.Tensor[], ctx: Context, seed: number, std: number): ParamTree => {
  const layers = countLayers(spec, learnable);
  const scaled = std * Math.sqrt(16 / Math.max(16, layers));
  const random = seededRandom(seed);
  const streams = { random, nextSeed: () => Math.floor(random() * 2 ** 31) };
  const noise = seededRandom(seed + 1);
  const made: tf.Tensor[] = [];
  const table: FoldTable<tf.Tensor, ParamTree> = {
    primitive: (layer, node) => {
      const definition = definitionOf(layer);
      const { frozen, mixing } = definition.params;
      const data = node.dir === 'forward' ? node.ins : undefined;
      const fresh = tf.tidy(() => definition.params.init(layer, { ...streams, ...(data === undefined ? {} : { data }), ctx }) as tf.TensorContainer) as ParamRecord;
      const params = mapParams(fresh, (t, path) => {
        const [top = ''] = path.split('.');
        const name = path.split('.').pop() ?? '';
        const seedOf = Math.floor(noise() * 2 ** 31);
        return tf.tidy(() => (frozen.includes(top) ? tf.clone(t) : tf.add(t, seededNormal(t.shape, noiseStd(mixing.includes(name), t.shape, scaled), seedOf))));
      }) as ParamRecord;
      disposeParams(fresh);
      const maths = node.dir === 'forward' ? definition.forward : definition.inverse;
      const outs = node.ins && tf.tidy(() => maths(layer, params, node.ins ?? [], ctx).outs.map((t) => tf.keep(t)));
      made.push(...(outs ?? []));
      return { outs, result: params };
    },
    sequence: (children) => children,
    parallel: (branches) => branches,
    invert: (body) => body,
  };
  const params = fold(spec, table, { ins: xs }).result;
  for (const t of made) t.dispose();
  return params;
};

/** Samples for the data-dependent initialisation: enough for per-channel statistics whatever `batch` is. */
const INIT_BATCH = 16;

/** The default parameters: initialised and perturbed on a batch of their own (see dataPerturbedParams). */
const initialisedParams = (spec: FlowSpec, cond: Readonly<Record<string, Shape>>, seed: number, std: number): ParamTree => {
  const sig = signature(spec);
  const data = sampleInputs(sig.ins, domains(spec, 'forward'), INIT_BATCH, seed + 30);
  const ctx: Context = Object.fromEntries(Object.entries(cond).map(([name, s], i) => [name, seededNormal(tensorShape(s, INIT_BATCH), 1, seed + 130 + i)]));
  const params = dataPerturbedParams(spec, data, ctx, seed, std);
  for (const t of [...data, ...Object.values(ctx)]) t.dispose();
  return params;
};

const maxNormalisedError = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.add(1, tf.abs(b)))).dataSync()[0] as number);

const check = (name: CheckName, worst: number, tolerance: number, detail: string): Check => ({
  name,
  passed: Number.isFinite(worst) && worst <= tolerance,
  worst,
  tolerance,
  detail,
});

const describeLayer = (l: LayerCheck): string => `${l.path} (${l.kind}${l.runs === 'inverse' ? ', run inverse' : ''})`;

const lawError = (l: LayerCheck, law: Law): number => l[law] ?? 0;
const lawTolerance = (law: Law, tol: Tolerances): number => (law === 'logDetInverse' ? tol.logDet : tol[law]);

/**
 * Why a layer fails `law` on its own input, from its float64 check: a wrong formula or float32's
 * precision; for a kind not on the op algebra, as before (no float64 self to ask).
 */
const layerCause = (l: LayerCheck, law: Law, detail: string, tol: Tolerances): Pick<Check, 'layer' | 'cause' | 'digitsLost' | 'detail' | 'remedy'> => {
  const f = l.float64;
  if (f?.ok !== true)
    return {
      layer: l.path,
      cause: 'formula',
      detail: f === undefined ? detail : `${detail} (${f.note})`,
      remedy: "that layer's forward, inverse or log-det maths disagree: a wrong formula, or an ill-conditioned layer (try a smaller --perturb)",
    };
  const v = verdictOf(f.check, law, lawError(l, law), lawTolerance(law, tol));
  const in64 = f.check[law];
  // A layer that solves an ODE and breaks the law in float64 too: the solver's discretisation, not its maths.
  if (v.cause === 'formula' && definitions().get(l.kind)?.evaluations !== undefined && in64 !== undefined && !(in64 <= lawTolerance(law, tol)))
    return {
      layer: l.path,
      cause: 'solver',
      detail: `${detail}: the ${law === 'roundTrip' ? 'round trip' : 'log-det'} fails in float64 too (${in64.toExponential(1)}): the ODE solver is too coarse for this layer's field (its discretisation error)`,
      remedy: "give that layer's solver more steps, or use rk4, or dopri5 with a smaller rtol",
    };
  return { layer: l.path, cause: v.cause, ...(v.digitsLost === undefined ? {} : { digitsLost: v.digitsLost }), detail: `${detail}: ${v.detail}`, remedy: v.remedy };
};

/**
 * Where a failed flow-level check first appears, and why: the first layer whose inputs left its domain
 * or whose values overflowed, else the first that fails the same law at its own input.
 */
const attribute = (failed: Check, layers: readonly LayerCheck[], tol: Tolerances, depth: number): Check => {
  const outside = layers.find((l) => l.outsideDomain > 0);
  const overflow = layers.find((l) => l.overflow);
  const first = outside !== undefined && (overflow === undefined || layers.indexOf(outside) <= layers.indexOf(overflow)) ? outside : overflow;
  if (first !== undefined && first.outsideDomain > 0)
    return {
      ...failed,
      layer: first.path,
      cause: 'domain',
      detail: `${failed.detail}; first at ${describeLayer(first)}: its inputs left its domain (by ${first.outsideDomain.toPrecision(3)})`,
      remedy: 'the layers before it move values out of its domain: use a smaller --perturb, bound them (e.g. a sigmoid before a logit), or check the logit levels and alpha',
    };
  if (first !== undefined)
    return {
      ...failed,
      layer: first.path,
      cause: 'overflow',
      detail: `${failed.detail}; first at ${describeLayer(first)}: finite inputs gave non-finite values (float32 overflow)`,
      remedy: 'values exceed float32 there: use a smaller --perturb, a smaller clamp or bound, or normalise before that layer (actnorm)',
    };
  const law: Law = failed.name === 'log-det inverse' ? 'logDetInverse' : failed.name.startsWith('log-det reference') ? 'reference' : 'roundTrip';
  const culprit = layers.find((l) => !(lawError(l, law) <= lawTolerance(law, tol)));
  if (culprit !== undefined) return { ...failed, ...layerCause(culprit, law, `${failed.detail}; first at ${describeLayer(culprit)}, which fails it on its own input`, tol) };
  return {
    ...failed,
    cause: 'precision',
    detail: `${failed.detail}; every layer passes on its own, so the error accumulates over the flow's ${depth} layers`,
    remedy: 'float32 rounding adds up across layers: try a smaller --perturb, or looser tolerances for a flow this deep',
  };
};

/** Paths of the layers (cnf with a Hutchinson trace) whose log-det is an estimate. */
const estimatingLayers = (spec: FlowSpec): string[] => {
  const paths: string[] = [];
  fold(spec, { primitive: (layer, node) => ({ outs: undefined, result: estimatesLogDet(layer) ? paths.push(node.path) : 0 }), sequence: sum, parallel: sum, invert: (n) => n });
  return paths;
};

/**
 * A flow with Hutchinson-trace cnf layers: their log-det is an unbiased estimate, not a function the
 * laws can pin, so the checks run on the flow with their exact traces (the same parameters), and a
 * note gives how far the estimate is from the exact log-det on the same inputs.
 */
const verifyEstimating = (spec: FlowSpec, paths: readonly string[], options: VerifyOptions): VerifyReport => {
  const seed = options.seed ?? 0;
  const batch = options.batch ?? 2;
  const sig = signature(spec);
  const params = options.params ?? initialisedParams(spec, sig.cond, seed, options.perturb ?? 0.2);
  try {
    const exact = withExactTraces(spec);
    const report = verifyFlow(exact, { ...options, params });
    const [estimate, truth] = tf.tidy(() => {
      const ctx: Context = Object.fromEntries(Object.entries(sig.cond).map(([name, s], i) => [name, seededNormal(tensorShape(s, batch), 1, seed + 100 + i)]));
      const xs = sampleInputs(sig.ins, domains(spec, 'forward'), batch, seed + 10);
      return [Array.from(forward(spec, params)(xs, ctx).logDet.dataSync()), Array.from(forward(exact, params)(xs, ctx).logDet.dataSync())];
    });
    const gap = Math.max(...estimate.map((v, i) => Math.abs(v - (truth[i] as number))));
    const note =
      `${paths.join(', ')}: log-det estimated (Hutchinson trace, one probe per solve): the checks above ran with the exact trace and the same parameters; ` +
      `the estimate differs from the exact log-det by up to ${gap.toExponential(2)} here (estimate ${estimate.map((v) => v.toFixed(4)).join(', ')}; exact ${truth.map((v) => v.toFixed(4)).join(', ')}), unbiased over probe seeds`;
    return { ...report, notes: [note, ...report.notes] };
  } finally {
    if (options.params === undefined) disposeParams(params);
  }
};

/** Runs every check; never throws for a failing property (only for an invalid spec). */
export const verifyFlow = (spec: FlowSpec, options: VerifyOptions = {}): VerifyReport => {
  const estimating = estimatingLayers(spec);
  if (estimating.length > 0) return verifyEstimating(spec, estimating, options);
  const seed = options.seed ?? 0;
  const batch = options.batch ?? 2;
  const maxReferenceSize = options.maxReferenceSize ?? 256;
  const sig = signature(spec);
  const depth = countLayers(spec);
  const base = { ...defaultTolerances, ...options.tolerances };
  // Flow-level errors add up over the layers (see defaultTolerances); per-layer checks keep the base.
  const depthFactor = Math.max(1, depth / 32);
  const tol: Tolerances = { ...base, roundTrip: base.roundTrip * depthFactor, logDet: base.logDet * depthFactor };
  const ctx: Context = Object.fromEntries(Object.entries(sig.cond).map(([name, s], i) => [name, seededNormal(tensorShape(s, batch), 1, seed + 100 + i)]));
  const xs = sampleInputs(sig.ins, domains(spec, 'forward'), batch, seed + 10);
  const params = options.params ?? initialisedParams(spec, sig.cond, seed, options.perturb ?? 0.2);
  const fwd = forward(spec, params);
  const inv = inverse(spec, params);
  // Where the flow's image is not all of R^D (a logit maps onto a bounded interval), random outputs
  // may have no preimage: draw them as images of fresh inputs instead.
  const ys0 = hasBoundedImage(spec)
    ? tf.tidy(() => {
        const fresh = sampleInputs(sig.ins, domains(spec, 'forward'), batch, seed + 20);
        return [...fwd(fresh, ctx).ys] as tf.Tensor[];
      })
    : sampleInputs(sig.outs, domains(spec, 'inverse'), batch, seed + 20);
  const checks: Check[] = [];
  const notes: string[] = [];

  const before = tf.memory().numTensors;
  const f = fwd(xs, ctx);
  const back = inv(f.ys, ctx);
  const reverse = inv(ys0, ctx);
  const again = fwd(reverse.xs, ctx);
  const made = [f.logDet, ...f.ys, back.logDet, ...back.xs, reverse.logDet, ...reverse.xs, again.logDet, ...again.ys];

  const shapeOf = (t: tf.Tensor): string => formatShape(t.shape);
  const expected = (shapes: readonly Shape[]): string[] => shapes.map((s) => formatShape(tensorShape(s, batch)));
  const gotOut = f.ys.map(shapeOf);
  const gotIn = back.xs.map(shapeOf);
  const shapesOk = gotOut.join() === expected(sig.outs).join() && gotIn.join() === expected(sig.ins).join();
  checks.push(check('shapes', shapesOk ? 0 : 1, 0, `forward gives ${gotOut.join(' ')}, expected ${expected(sig.outs).join(' ')}; inverse gives ${gotIn.join(' ')}`));

  const rt = Math.max(...xs.map((x, i) => maxNormalisedError(back.xs[i] as tf.Tensor, x)));
  checks.push(check('round trip', rt, tol.roundTrip, 'max |x - inverse(forward(x))| / (1 + |x|)'));
  const rrt = Math.max(...ys0.map((y, i) => maxNormalisedError(again.ys[i] as tf.Tensor, y)));
  checks.push(check('reverse round trip', rrt, tol.roundTrip, 'max |y - forward(inverse(y))| / (1 + |y|)'));
  const ld = tf.tidy(() => tf.max(tf.div(tf.abs(tf.add(f.logDet, back.logDet)), tf.add(1, tf.abs(f.logDet)))).dataSync()[0] as number);
  checks.push(check('log-det inverse', ld, tol.logDet, 'max |fldj(x) + ildj(forward(x))| / (1 + |fldj|)'));
  const flowLogDet = Array.from(f.logDet.dataSync());

  const leaked = tf.memory().numTensors - before - made.length;
  // Round trips and domains layer by layer are cheap; the layers' dense Jacobians are computed only
  // when the whole flow's cannot be, or failed.
  // Layers that fail a law on their own input are checked against their float64 selves (all of them with reference: 'float64').
  const float64 = { when: options.reference === 'float64' ? ('always' as const) : ('failing' as const), tolerances: base };
  let layers = checkLayers(spec, params, xs, ctx, { maxReferenceSize, references: false, float64 });
  const withReferences = (): LayerCheck[] => (layers = checkLayers(spec, params, xs, ctx, { maxReferenceSize, references: true, float64 }));

  const size = sig.ins.reduce((n, s) => n + sizeOf(s), 0);
  if (size <= maxReferenceSize) {
    const ref = referenceLogDet(spec, params, xs, ctx);
    const worst = Math.max(...ref.map((r, i) => Math.abs((flowLogDet[i] as number) - r) / (1 + Math.abs(r))));
    const whole = check('log-det reference', worst, tol.reference, `fldj vs log|det| of the ${size}x${size} autodiff Jacobian; fldj ${flowLogDet.map((v) => v.toFixed(4)).join(', ')}, reference ${ref.map((v) => v.toFixed(4)).join(', ')}`);
    checks.push(whole.passed ? whole : perLayerVerdict(whole, withReferences(), flowLogDet, tol));
  } else {
    withReferences();
    const perLayer = perLayerReference(layers, flowLogDet, tol, notes);
    notes.unshift(
      `log-det reference of the whole flow not run: ${size} dimensions per sample is above the dense-Jacobian limit of ${maxReferenceSize}` +
        (perLayer === undefined ? '; no layer was small enough either (raise --max-reference-size)' : '; checked layer by layer instead'),
    );
    if (perLayer !== undefined) checks.push(perLayer);
  }
  if (options.reference === 'float64') {
    const c = float64Reference(layers, base, notes);
    if (c !== undefined) checks.push(c);
  }
  checks.push(check('tensor leak', Math.abs(leaked), 0, `${leaked} tensor(s) left behind by four passes`));

  for (const t of [...made, ...xs, ...ys0, ...Object.values(ctx)]) t.dispose();
  if (options.params === undefined) disposeParams(params);
  const attributed = checks.map((c) => (c.passed || c.layer !== undefined || c.name === 'shapes' || c.name === 'tensor leak' ? c : attribute(c, layers, tol, depth)));
  return { passed: attributed.every((c) => c.passed), checks: attributed, notes };
};

/** Does the flow's log-det equal the sum of its layers' (each checked against its own Jacobian)? */
const sumsToLayers = (layers: readonly LayerCheck[], flowLogDet: readonly number[], tol: Tolerances): boolean =>
  flowLogDet.every((v, n) => {
    const sum = layers.reduce((s, l) => s + (l.logDet[n] ?? 0), 0);
    return Math.abs(v - sum) <= tol.logDet * (1 + Math.abs(v));
  });

/**
 * The whole-flow dense Jacobian failed: if every layer matches its own Jacobian at its real input and
 * the flow's log-det is their sum, the composition is right and the whole-flow reference is what lost
 * digits (float32 autodiff through a saturating layer); the check passes and says so.
 */
const perLayerVerdict = (whole: Check, layers: readonly LayerCheck[], flowLogDet: readonly number[], tol: Tolerances): Check => {
  const layersPass = layers.every((l) => l.reference === undefined || l.reference <= tol.reference);
  const allChecked = layers.every((l) => l.reference !== undefined);
  if (!layersPass || !allChecked || !sumsToLayers(layers, flowLogDet, tol)) return whole;
  return {
    ...whole,
    passed: true,
    cause: 'precision',
    detail: `${whole.detail}; every layer matches its own dense Jacobian and the flow's log-det is their sum, so the whole-flow float32 Jacobian is what lost digits`,
  };
};

/** The per-layer reference as the flow's log-det check: the layers checked, and the flow's log-det their sum. */
const perLayerReference = (layers: readonly LayerCheck[], flowLogDet: readonly number[], tol: Tolerances, notes: string[]): Check | undefined => {
  const checked = layers.filter((l) => l.reference !== undefined);
  for (const l of layers.filter((x) => x.reference === undefined)) notes.push(`log-det reference of ${describeLayer(l)}: ${l.referenceNote}`);
  // No layer checked: no check to report (one that cannot fail would pass), only the notes.
  if (checked.length === 0) return undefined;
  const worst = Math.max(0, ...checked.map((l) => l.reference as number));
  const sums = sumsToLayers(layers, flowLogDet, tol);
  const c = check(
    'log-det reference (per layer)',
    sums ? worst : Infinity,
    tol.reference,
    `each layer's log-det vs log|det| of its own autodiff Jacobian at its real input (${checked.length} of ${layers.length} layers checked)${sums ? '' : "; the flow's log-det is not the sum of its layers'"}`,
  );
  const culprit = checked.find((l) => (l.reference as number) > tol.reference || !Number.isFinite(l.reference as number));
  return culprit === undefined ? c : { ...c, ...layerCause(culprit, 'reference', `${c.detail}; first at ${describeLayer(culprit)} (${culprit.referenceNote})`, tol) };
};

/**
 * Every layer against its float64 self: its float32 passes within float32's own error of float64 (a
 * multiple of 1 is that error, allowedDeviation), and its laws in float64 within their tolerances.
 * Worst is the larger ratio over the layers; kinds not on the op algebra are listed in the notes.
 */
const float64Reference = (layers: readonly LayerCheck[], tol: Tolerances, notes: string[]): Check | undefined => {
  // A repeat's copies share a path: one note per path.
  for (const note of new Set(layers.flatMap((l) => (l.float64?.ok === false ? [`float64 reference: ${l.float64.note}`] : [])))) notes.push(note);
  const laws: readonly Law[] = ['roundTrip', 'logDetInverse', 'reference'];
  const ratios = layers.flatMap((l) => {
    if (l.float64?.ok !== true) return [];
    const f = l.float64.check;
    const lawRatios = laws.map((law) => (f[law] ?? 0) / lawTolerance(law, tol));
    const ratio = Math.max(f.deviation / allowedDeviation(f), ...lawRatios);
    const law = laws.find((_, i) => !((lawRatios[i] as number) <= 1)) ?? laws.find((x) => !(lawError(l, x) <= lawTolerance(x, tol))) ?? 'roundTrip';
    return [{ l, ratio: Number.isNaN(ratio) ? Infinity : ratio, law }];
  });
  if (ratios.length === 0) return undefined;
  const worst = Math.max(...ratios.map((r) => r.ratio));
  const c = check(
    'float64 reference',
    worst,
    1,
    `each layer's float32 passes vs float64, over float32's own error there, and its laws in float64 over their tolerances (${ratios.length} of ${layers.length} layers checked)`,
  );
  const bad = ratios.find((r) => !(r.ratio <= 1));
  return bad === undefined ? c : { ...c, ...layerCause(bad.l, bad.law, `${c.detail}; first at ${describeLayer(bad.l)}`, tol) };
};
