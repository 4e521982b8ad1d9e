/**
 * The flow laws layer by layer, at each layer's real input: a forward fold that, at every primitive,
 * checks that its inputs lie in its domain, runs it forward and back, compares the log-dets, and
 * compares its log-det with log|det| of its own dense autodiff Jacobian, on the layer itself when it
 * is small enough and otherwise on a reduced copy (the same kind and parameters on a spatial crop of
 * its input: the maths of a layer whose parameters do not depend on the spatial size is the same
 * function at every size, so the crop checks the formula at real input values).
 *
 * `verifyFlow` uses these to name the first layer where a whole-flow check fails and why, and to
 * check log-dets of flows too large for one dense Jacobian.
 */
import * as tf from '@tensorflow/tfjs';
import type { Context, Domain } from '../dsl/definition.js';
import { fold, type FoldTable } from '../dsl/fold.js';
import { slogdet } from '../dsl/maths/linalg.js';
import { flattenShapes, type ParamRecord, type ParamTree } from '../dsl/params.js';
import { definitionOf } from '../dsl/registry.js';
import { formatShape, sameShape, spatialOf, tensorShape } from '../dsl/shape.js';
import { signature } from '../dsl/signature.js';
import type { FlowSpec, PrimitiveSpec } from '../dsl/spec.js';
import { float64LayerCheck, type Float64Outcome } from './float64-checks.js';
import { paramShapes } from './param-shapes.js';

export interface LayerCheck {
  /** Path of the layer in the spec (`$.steps[3].body`). */
  readonly path: string;
  readonly kind: string;
  /** The direction the layer runs in when the flow runs forward (inverse inside `invert`). */
  readonly runs: 'forward' | 'inverse';
  /** Inputs outside the layer's domain (e.g. a logit's (0, levels)): the worst excursion, 0 if none. */
  readonly outsideDomain: number;
  /** Finite inputs gave non-finite outputs or log-det. */
  readonly overflow: boolean;
  /** max |x - back(pass(x))| / (1 + |x|). */
  readonly roundTrip: number;
  /** max |ldj + ldj_back| / (1 + |ldj|). */
  readonly logDetInverse: number;
  /** |ldj - log|det J|| / (1 + |log|det J||) on the layer or its reduced copy; undefined when not checked. */
  readonly reference: number | undefined;
  /** What the reference was taken on, or why it was not. */
  readonly referenceNote: string;
  /** The layer's log-det per sample, for checking that the flow's is their sum. */
  readonly logDet: readonly number[];
  /** The layer against its float64 self (when asked for, or when it fails a law): tells a wrong formula from float32's limits. */
  readonly float64?: Float64Outcome;
}

const maxNormalised = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.add(1, tf.abs(b)))).dataSync()[0] as number);

/** How far values fall outside a required interval (0 when inside; Infinity for NaN). */
const excursion = (x: tf.Tensor, d: Domain): number => {
  if (d.kind !== 'interval') return 0;
  const [lo, hi] = tf.tidy(() => [tf.min(x).dataSync()[0] as number, tf.max(x).dataSync()[0] as number]);
  if (Number.isNaN(lo) || Number.isNaN(hi)) return Infinity;
  // The interval is open: a value on its boundary is already outside.
  return lo > d.low && hi < d.high ? 0 : Math.max(d.low - lo, hi - d.high, Number.MIN_VALUE);
};

const allFinite = (ts: readonly tf.Tensor[]): boolean => ts.every((t) => tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0] === 1));

/** log|det| of one sample's dense Jacobian of one layer pass (inputs and outputs flattened in order). */
const denseLogDet = (
  spec: PrimitiveSpec,
  params: ParamRecord,
  xs: readonly tf.Tensor[],
  ctx: Context,
  sample: number,
  runs: 'forward' | 'inverse',
): number => {
  const definition = definitionOf(spec);
  const maths = runs === 'forward' ? definition.forward : definition.inverse;
  const size = xs.reduce((n, x) => n + x.size / (x.shape[0] as number), 0);
  const jacobian = tf.tidy(() => {
    const tile = (t: tf.Tensor): tf.Tensor => {
      const rest = t.shape.slice(1).map(() => 0);
      return tf.tile(tf.slice(t, [sample, ...rest], [1, ...rest.map(() => -1)]), [size, ...rest.map(() => 1)]);
    };
    const tiledCtx: Context = Object.fromEntries(Object.entries(ctx).map(([k, t]) => [k, tile(t)]));
    const selector = tf.eye(size);
    const f = (...inputs: tf.Tensor[]): tf.Scalar => {
      const { outs } = maths(spec, params, inputs, tiledCtx);
      const flat = tf.concat(outs.map((o) => tf.reshape(o, [size, -1])), 1);
      return tf.sum(tf.mul(flat, selector));
    };
    const grads = tf.grads(f)(xs.map(tile));
    return tf.concat(grads.map((g) => tf.reshape(g, [size, -1])), 1);
  });
  const values = Float64Array.from(jacobian.dataSync());
  jacobian.dispose();
  return slogdet(values, size).logAbsDet;
};

/**
 * A copy of a one-tensor layer on a spatial crop of at most `maxSize` elements, when its parameters do
 * not depend on the spatial size (the copy's parameter shapes equal the layer's); undefined otherwise.
 */
const reducedCopy = (spec: PrimitiveSpec, maxSize: number): { spec: PrimitiveSpec; crop: number[] } | undefined => {
  if (!('shape' in spec)) return undefined;
  const shape = spec.shape;
  const channels = shape[0] as number;
  const spatial = spatialOf(shape);
  if (spatial.length === 0 || channels > maxSize) return undefined;
  // Shrink the spatial dims (even sizes kept even, for squeezes) until the copy is small enough.
  const crop = [...spatial];
  while (channels * crop.reduce((a, b) => a * b, 1) > maxSize) {
    const i = crop.indexOf(Math.max(...crop));
    const d = crop[i] as number;
    if (d <= 2) break;
    crop[i] = d % 2 === 0 && d > 2 ? Math.max(2, d - 2) : d - 1;
  }
  if (channels * crop.reduce((a, b) => a * b, 1) > maxSize) return undefined;
  const copy = { ...spec, shape: [channels, ...crop] } as PrimitiveSpec;
  try {
    const a = flattenShapes(paramShapes(copy));
    const b = flattenShapes(paramShapes(spec));
    if (a.length !== b.length || a.some(([path, shape], i) => path !== b[i]?.[0] || !sameShape(shape, b[i]?.[1] ?? []))) return undefined;
    signature(copy);
  } catch {
    return undefined;
  }
  return { spec: copy, crop };
};

/** The leading window of a channels-last batch: spatial dims cut to `crop`. */
const cropTo = (t: tf.Tensor, crop: readonly number[]): tf.Tensor =>
  tf.slice(t, t.shape.map(() => 0), [-1, ...crop, -1]);

export interface LayerCheckOptions {
  readonly maxReferenceSize: number;
  /** Compare log-dets with dense Jacobians (the costly part); false checks round trips and domains only. */
  readonly references: boolean;
  /**
   * Check layers against their float64 selves: every layer ('always'), or those that fail a law at
   * these `tolerances` ('failing'); none when undefined.
   */
  readonly float64?: { readonly when: 'always' | 'failing'; readonly tolerances: { readonly roundTrip: number; readonly logDet: number; readonly reference: number } };
}

/** Runs the flow forward from `xs`, checking every layer at its real input. Disposes what it makes. */
export const checkLayers = (spec: FlowSpec, params: ParamTree, xs: readonly tf.Tensor[], ctx: Context, options: LayerCheckOptions): LayerCheck[] => {
  const results: LayerCheck[] = [];
  // Each layer's outputs feed the next; they are disposed once the fold is done.
  const made: tf.Tensor[] = [];
  const table: FoldTable<tf.Tensor, null> = {
    primitive: (layer, node) => {
      const definition = definitionOf(layer);
      const runs = node.dir;
      const p = node.params as ParamRecord;
      const ins = node.ins ?? [];
      const sig = signature(layer);
      // What the run inputs must satisfy: the forward domain, or the image of it when run backwards.
      const own = definition.domain.input(layer, sig.outs.map(() => ({ kind: 'real' }) as const));
      const needed = runs === 'forward' ? own : definition.domain.image(layer, own);
      const outsideDomain = Math.max(0, ...ins.map((x, i) => excursion(x, needed[i] ?? { kind: 'real' })));
      const there = runs === 'forward' ? definition.forward : definition.inverse;
      const back = runs === 'forward' ? definition.inverse : definition.forward;
      const outs = tf.tidy(() => {
        const pass = there(layer, p, ins, ctx);
        const again = back(layer, p, pass.outs, ctx);
        const finiteIn = allFinite(ins);
        const overflow = finiteIn && !allFinite([...pass.outs, pass.logDet]);
        const roundTrip = Math.max(...ins.map((x, i) => maxNormalised(again.outs[i] as tf.Tensor, x)));
        const logDetInverse = tf.tidy(() => tf.max(tf.div(tf.abs(tf.add(pass.logDet, again.logDet)), tf.add(1, tf.abs(pass.logDet)))).dataSync()[0] as number);
        const logDet = Array.from(pass.logDet.dataSync());
        let reference: number | undefined;
        let referenceNote: string;
        const size = ins.reduce((n, x) => n + x.size / (x.shape[0] as number), 0);
        if (!options.references) referenceNote = 'not asked for';
        else if (!finiteIn) referenceNote = 'not checked: non-finite inputs';
        else if (size <= options.maxReferenceSize) {
          const ref = denseLogDet(layer, p, ins, ctx, 0, runs);
          reference = Math.abs((logDet[0] as number) - ref) / (1 + Math.abs(ref));
          referenceNote = `on the layer (${size} dims)`;
        } else {
          const reduced = ins.length === 1 ? reducedCopy(layer, options.maxReferenceSize) : undefined;
          if (reduced === undefined) referenceNote = `not checked: ${size} dims, and its parameters depend on the spatial size or it has several inputs`;
          else {
            const small = [cropTo(ins[0] as tf.Tensor, reduced.crop)];
            const smallCtx: Context = Object.fromEntries(Object.entries(ctx).map(([k, t]) => [k, t.rank === (ins[0] as tf.Tensor).rank ? cropTo(t, reduced.crop) : t]));
            const smallPass = (runs === 'forward' ? definitionOf(reduced.spec).forward : definitionOf(reduced.spec).inverse)(reduced.spec, p, small, smallCtx);
            const got = smallPass.logDet.dataSync()[0] as number;
            const ref = denseLogDet(reduced.spec, p, small, smallCtx, 0, runs);
            reference = Math.abs(got - ref) / (1 + Math.abs(ref));
            referenceNote = `on a ${formatShape(tensorShape((reduced.spec as { shape: readonly number[] }).shape, 1).slice(1))} crop of its input (layer: ${size} dims)`;
          }
        }
        const f = options.float64;
        const fails = f !== undefined && !(roundTrip <= f.tolerances.roundTrip && logDetInverse <= f.tolerances.logDet && (reference ?? 0) <= f.tolerances.reference);
        const float64 = f !== undefined && finiteIn && (f.when === 'always' || fails) ? float64LayerCheck(layer, node.path, p, ins, ctx, runs, pass, again, options.maxReferenceSize) : undefined;
        results.push({ path: node.path, kind: layer.kind, runs, outsideDomain, overflow, roundTrip, logDetInverse, reference, referenceNote, logDet, ...(float64 === undefined ? {} : { float64 }) });
        return pass.outs.map((t) => tf.keep(t));
      });
      made.push(...outs);
      return { outs, result: null };
    },
    sequence: () => null,
    parallel: () => null,
    invert: () => null,
  };
  fold(spec, table, { ins: xs, params });
  for (const t of made) t.dispose();
  return results;
};
