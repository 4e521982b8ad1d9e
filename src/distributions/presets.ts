/**
 * Flows chosen from the data's dimension D and number of rows N, for fitting without writing a spec
 * (`typed-flows fit --flow nsf|maf|realnvp`). All of them expect standardised data (the fit's default),
 * so a spline's bound is in standard deviations:
 *
 * | | |
 * | --- | --- |
 * | layers | 5 for D <= 2, 6 for D <= 8, 8 above; a reverse permutation between layers |
 * | hidden | two layers of max(32, min(256, 32 D)) units (64 for D = 2), halved below 1,000 rows (at least 16) |
 * | nsf | rational-quadratic spline couplings (Durkan et al. 2019), 8 bins, bound 5; D = 1: an autoregressive spline |
 * | maf | masked autoregressive affine layers (Papamakarios et al. 2017), soft clamp 2 |
 * | realnvp | affine couplings (Dinh et al. 2017), soft clamp 2; D = 1: a masked autoregressive affine layer |
 * | cnf | one continuous flow (src/dsl/bijectors/cnf.ts): a tanh field of three hidden layers of max(64, min(256, 32 D)) units (halved below 1,000 rows), 4 time frequencies, RK4 with 16 steps; train it with `--objective flow-matching` |
 *
 * A conditional preset (context vectors of width C) feeds the context to every layer's network, and
 * its width is lowered (by 8, to 16 at least) until the flow has at most 10 trainable parameters per
 * training row: every context is seen once, so a wide conditional flow can put a spike at each training
 * pair (on sbibm's Gaussian linear task, 10,000 pairs, the unbounded nsf preset of 796k parameters
 * reached a training NLL of -3.35 nats against the truth's -0.79 while its validation NLL rose from
 * step 150 on; docs/density.md). `presetSettings` gives the numbers, `presetWidth` the width a
 * (conditional) preset gets, `presetFlow` the flow.
 */
import { chainOf } from '../dsl/combinators.js';
import { affineCoupling } from '../dsl/bijectors/affine-coupling.js';
import { maskedAutoregressive } from '../dsl/bijectors/masked-autoregressive.js';
import { reverse } from '../dsl/bijectors/permute.js';
import { splineCoupling } from '../dsl/bijectors/spline-coupling.js';
import { cnf } from '../dsl/bijectors/cnf.js';
import type { CondShapes } from '../dsl/shape.js';
import type { AnyFlow } from '../dsl/spec.js';
import { parameterCount } from '../interpreters/summary.js';
import { made, mlp } from '../layers/spec.js';

export { flowPresets, modelPresets, type FlowPreset, type ModelPreset } from './preset-names.js';
import type { FlowPreset } from './preset-names.js';

/** The sizes a preset flow is built with, chosen from the dimension D and the number of rows N. */
export interface PresetSettings {
  readonly layers: number;
  readonly hidden: readonly number[];
  readonly bins: number;
  /** The spline's half-width, in standard deviations of standardised data. */
  readonly bound: number;
}

/** The settings for data of dimension `d` with `rows` training rows (see the file comment). */
export const presetSettings = (d: number, rows: number): PresetSettings => {
  const layers = d <= 2 ? 5 : d <= 8 ? 6 : 8;
  const full = Math.max(32, Math.min(256, 32 * d));
  const width = rows < 1000 ? Math.max(16, Math.floor(full / 2)) : full;
  return { layers, hidden: [width, width], bins: 8, bound: 5 };
};

/** How a maximum-likelihood fit is regularised (`fit`'s `noise` and `averaging` options). */
export interface PresetRegularisation {
  /** Gaussian noise on each training minibatch, in standard deviations of each column. */
  readonly noise: number;
  /** Decay of the running average of the parameters that is validated and kept. */
  readonly averaging: number;
}

/**
 * The regularisation `typed-flows fit` uses for a likelihood fit of `rows` training rows in `d`
 * dimensions: noise of 0.05 standard deviations at 2,000 rows, shrinking as rows^(-1/(4+d)) (the rate
 * of a kernel density estimate's bandwidth, so more data is smoothed less), and parameter averaging
 * with decay 0.995. Chosen on two moons (docs/density.md, section 7: 0.022 ± 0.004 nats better over
 * three seeds than neither); noise 0.1 over-smooths there.
 */
export const presetRegularisation = (d: number, rows: number): PresetRegularisation => ({
  noise: 0.05 * (2000 / Math.max(1, rows)) ** (1 / (4 + d)),
  averaging: 0.995,
});

/** The cnf preset's field: three hidden layers, wider than the discrete flows' (one layer does all the work). */
export const cnfPresetHidden = (d: number, rows: number): number[] => {
  const full = Math.max(64, Math.min(256, 32 * d));
  const width = rows < 1000 ? Math.max(32, Math.floor(full / 2)) : full;
  return [width, width, width];
};

/** Trainable parameters a conditional preset may have per training row (see the file comment). */
export const CONDITIONAL_PARAMETERS_PER_ROW = 10;
const NARROWEST = 16;

/** The hidden width of preset `name` on [d] for `rows` training rows and conditioning `cond` (see the file comment). */
export const presetWidth = (name: FlowPreset, d: number, rows: number, cond: CondShapes = {}): number => {
  let width = name === 'cnf' ? (cnfPresetHidden(d, rows)[0] as number) : (presetSettings(d, rows).hidden[0] as number);
  if (Object.keys(cond).length === 0) return width;
  while (width > NARROWEST && parameterCount(presetFlowOfWidth(name, d, rows, cond, width)) > CONDITIONAL_PARAMETERS_PER_ROW * rows) width = Math.max(NARROWEST, width - 8);
  return width;
};

/** The preset flow `name` on vectors [d] for `rows` training rows, optionally conditioned on `cond`. */
export const presetFlow = (name: FlowPreset, d: number, rows: number, cond: CondShapes = {}): AnyFlow => presetFlowOfWidth(name, d, rows, cond, presetWidth(name, d, rows, cond));

/** Preset `name` with hidden width `width` (what `presetFlow` builds at `presetWidth`). */
export const presetFlowOfWidth = (name: FlowPreset, d: number, rows: number, cond: CondShapes, width: number): AnyFlow => {
  const s = { ...presetSettings(d, rows), hidden: [width, width] };
  const shape = [d] as const;
  if (name === 'cnf') return cnf(shape, { hidden: [width, width, width], frequencies: 4, solver: { kind: 'rk4', steps: 16 }, cond }) as AnyFlow;
  const autoregressive = (transformer: 'affine' | 'spline'): AnyFlow =>
    maskedAutoregressive(shape, { net: made({ hidden: s.hidden }), cond, transformer, bins: s.bins, bound: s.bound }) as AnyFlow;
  const layer = (): AnyFlow => {
    switch (name) {
      case 'nsf':
        return d === 1 ? autoregressive('spline') : (splineCoupling(shape, { net: mlp({ hidden: s.hidden }), cond, bins: s.bins, bound: s.bound }) as AnyFlow);
      case 'maf':
        return autoregressive('affine');
      case 'realnvp':
        return d === 1 ? autoregressive('affine') : (affineCoupling(shape, { net: mlp({ hidden: s.hidden }), cond }) as AnyFlow);
    }
  };
  const steps: AnyFlow[] = [];
  for (let i = 0; i < s.layers; i += 1) {
    if (i > 0 && d > 1) steps.push(reverse(shape) as AnyFlow);
    steps.push(layer());
  }
  return chainOf(steps);
};
