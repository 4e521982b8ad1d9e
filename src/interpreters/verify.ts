/**
 * Property checks of a flow on random inputs at its declared shapes: the invariants every bijector
 * must satisfy, as used by the test suite and by `typed-flows verify` on a user's own spec.
 *
 * - round trip: inverse(forward(x)) = x, and forward(inverse(y)) = y
 * - log-dets agree: forward log|det J|(x) = -inverse log|det J|(forward(x))
 * - the log-det equals log|det| of the dense Jacobian from autodiff (small flows only)
 * - the outputs have the shapes the shape interpreter infers
 * - a pass leaves tf.memory().numTensors unchanged
 */
import * as tf from '@tensorflow/tfjs';
import type { Context, Domain } from '../dsl/definition.js';
import { disposeParams, mapParams, type ParamTree } from '../dsl/params.js';
import { seededRandom } from '../dsl/random.js';
import { formatShape, sizeOf, tensorShape, type Shape } from '../dsl/shape.js';
import { signature } from '../dsl/signature.js';
import type { FlowSpec } from '../dsl/spec.js';
import { domains, hasBoundedImage } from './domains.js';
import { init } from './init.js';
import { paramInfo } from './param-shapes.js';
import { referenceLogDet } from './reference.js';
import { seededNormal } from './seeded-normal.js';
import { forward, inverse } from './transform.js';

export interface Tolerances {
  /** |x - inverse(forward(x))| <= roundTrip * (1 + |x|), elementwise. */
  readonly roundTrip: number;
  /** |fldj + ildj| <= logDet * (1 + |fldj|), per sample. */
  readonly logDet: number;
  /** |fldj - reference| <= reference * (1 + |reference|), per sample. */
  readonly reference: number;
}

/**
 * float32 has a 6e-8 unit roundoff; a pass through a flow of depth L accumulates relative errors of
 * order L * 1e-7 per element, amplified by the conditioning of the layers (exp(|s|) <= e^2 for the
 * clamped couplings). 1e-4 leaves room for deep random flows and still catches any wrong formula,
 * whose errors are O(1). The dense-Jacobian reference is a determinant of a float32 matrix, whose
 * error grows with its size and condition number, hence its looser 1e-3.
 */
export const defaultTolerances: Tolerances = { roundTrip: 1e-4, logDet: 1e-4, reference: 1e-3 };

export interface Check {
  readonly name: 'shapes' | 'round trip' | 'reverse round trip' | 'log-det inverse' | 'log-det reference' | 'tensor leak';
  readonly passed: boolean;
  /** The worst normalised error seen (0 for exact checks). */
  readonly worst: number;
  readonly tolerance: number;
  readonly detail: string;
}

export interface VerifyReport {
  readonly passed: boolean;
  readonly checks: readonly Check[];
}

export interface VerifyOptions {
  readonly seed?: number;
  readonly batch?: number;
  /** Parameters to check; by default fresh ones, perturbed so that zero-initialised layers are not trivially the identity. */
  readonly params?: ParamTree;
  /** Std of the noise added to fresh trainable parameters (default 0.2). */
  readonly perturb?: number;
  readonly tolerances?: Partial<Tolerances>;
  /** Skip the dense-Jacobian check above this many dimensions per sample (default 256). */
  readonly maxReferenceSize?: number;
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

/** Fresh params plus Gaussian noise on every trainable tensor. */
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

const maxNormalisedError = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.add(1, tf.abs(b)))).dataSync()[0] as number);

const check = (name: Check['name'], worst: number, tolerance: number, detail: string): Check => ({
  name,
  passed: Number.isFinite(worst) && worst <= tolerance,
  worst,
  tolerance,
  detail,
});

/** Runs every check; never throws for a failing property (only for an invalid spec). */
export const verifyFlow = (spec: FlowSpec, options: VerifyOptions = {}): VerifyReport => {
  const tol = { ...defaultTolerances, ...options.tolerances };
  const seed = options.seed ?? 0;
  const batch = options.batch ?? 2;
  const sig = signature(spec);
  const params = options.params ?? perturbedParams(spec, seed, options.perturb ?? 0.2);
  const ctx: Context = Object.fromEntries(Object.entries(sig.cond).map(([name, s], i) => [name, seededNormal(tensorShape(s, batch), 1, seed + 100 + i)]));
  const xs = sampleInputs(sig.ins, domains(spec, 'forward'), batch, seed + 10);
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

  const size = sig.ins.reduce((n, s) => n + sizeOf(s), 0);
  if (size <= (options.maxReferenceSize ?? 256)) {
    const ref = referenceLogDet(spec, params, xs, ctx);
    const got = Array.from(f.logDet.dataSync());
    const worst = Math.max(...ref.map((r, i) => Math.abs((got[i] as number) - r) / (1 + Math.abs(r))));
    checks.push(check('log-det reference', worst, tol.reference, `fldj vs log|det| of the ${size}x${size} autodiff Jacobian; fldj ${got.map((v) => v.toFixed(4)).join(', ')}, reference ${ref.map((v) => v.toFixed(4)).join(', ')}`));
  }

  const leaked = tf.memory().numTensors - before - made.length;
  checks.push(check('tensor leak', Math.abs(leaked), 0, `${leaked} tensor(s) left behind by four passes`));

  for (const t of [...made, ...xs, ...ys0, ...Object.values(ctx)]) t.dispose();
  if (options.params === undefined) disposeParams(params);
  return { passed: checks.every((c) => c.passed), checks };
};
