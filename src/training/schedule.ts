/**
 * The learning-rate schedule of CAFLOW (spec section 3): Adam at `base` = 1e-3, linear warm-up over
 * the first 500 steps, decay by 0.999 per epoch, and a drop at chosen steps (x0.1 at 70k, x0.01 at
 * 140k by default). Pure and browser-safe: plain numbers only, no tensors.
 */

/** From `step` on (inclusive), the learning rate is multiplied by `factor` (not by earlier factors). */
export interface Milestone {
  readonly step: number;
  readonly factor: number;
}

/** Options of the warm-up and per-epoch exponential decay learning-rate schedule. */
export interface ScheduleOptions {
  /** Peak learning rate. Default 1e-3. */
  readonly base?: number;
  /** Number of warm-up steps; 0 disables warm-up. Default 500. */
  readonly warmup?: number;
  /** Multiplicative decay per completed epoch. Default 0.999. */
  readonly decayPerEpoch?: number;
  /** Optimiser steps per epoch (dataset size / batch size, rounded up). Required. */
  readonly stepsPerEpoch: number;
  /** Default: `[{ step: 70000, factor: 0.1 }, { step: 140000, factor: 0.01 }]`. */
  readonly milestones?: readonly Milestone[];
}

/** The CAFLOW reference defaults (everything but `stepsPerEpoch`, which depends on the data). */
export const caflowSchedule = {
  base: 1e-3,
  warmup: 500,
  decayPerEpoch: 0.999,
  milestones: [
    { step: 70_000, factor: 0.1 },
    { step: 140_000, factor: 0.01 },
  ],
} as const satisfies Omit<ScheduleOptions, 'stepsPerEpoch'>;

const positive = (name: string, x: number): void => {
  if (!(Number.isFinite(x) && x > 0)) throw new RangeError(`learningRate: ${name} must be a positive finite number, got ${x}`);
};
const count = (name: string, x: number, min: number): void => {
  if (!(Number.isInteger(x) && x >= min)) throw new RangeError(`learningRate: ${name} must be an integer >= ${min}, got ${x}`);
};

/**
 * The learning rate for optimiser step `step` (1-based: the first update is step 1, as Adam's `t`):
 *
 *   lr(step) = base * min(1, step / warmup) * decayPerEpoch ^ floor(step / stepsPerEpoch) * factor(step)
 *
 * where `factor(step)` is the factor of the last milestone with `milestone.step <= step` (1 before
 * the first). So warm-up rises linearly from base/warmup at step 1 to base at step `warmup`; the
 * epoch decay counts completed epochs; milestone factors replace each other (they do not compound).
 * With the defaults (factors <= 1, decay <= 1) the result lies in (0, base].
 * Throws a RangeError for a step < 1, a non-integer step or invalid options.
 */
export const learningRate = (step: number, options: ScheduleOptions): number => {
  const {
    base = caflowSchedule.base,
    warmup = caflowSchedule.warmup,
    decayPerEpoch = caflowSchedule.decayPerEpoch,
    stepsPerEpoch,
    milestones = caflowSchedule.milestones,
  } = options;
  count('step', step, 1);
  positive('base', base);
  count('warmup', warmup, 0);
  positive('decayPerEpoch', decayPerEpoch);
  count('stepsPerEpoch', stepsPerEpoch, 1);
  let factor = 1;
  let last = -Infinity;
  for (const m of milestones) {
    positive(`the factor of the milestone at step ${m.step}`, m.factor);
    if (m.step <= step && m.step >= last) {
      last = m.step;
      factor = m.factor;
    }
  }
  const warm = warmup === 0 ? 1 : Math.min(1, step / warmup);
  return base * warm * decayPerEpoch ** Math.floor(step / stepsPerEpoch) * factor;
};

/** `learningRate` with its options bound, e.g. for `trainStep`'s `lr` option. */
export const learningRateSchedule =
  (options: ScheduleOptions): ((step: number) => number) =>
  (step) =>
    learningRate(step, options);

/** Options of the warm-up and cosine-decay learning-rate schedule. */
export interface CosineScheduleOptions {
  /** Peak learning rate. */
  readonly base: number;
  /** Steps of linear warm-up from base/warmup to base; 0 disables it. */
  readonly warmup: number;
  /** The last step: the cosine reaches `base * final` there. */
  readonly steps: number;
  /** Fraction of `base` the cosine ends at. Default 0.01. */
  readonly final?: number;
}

/**
 * Cosine decay after a linear warm-up (Loshchilov and Hutter 2017, without restarts), for 1-based
 * `step`:
 *
 *   lr(step) = base * step / warmup                                          for step <= warmup,
 *   lr(step) = base * (final + (1 - final) * (1 + cos(pi * t)) / 2),  t = (step - warmup) / (steps - warmup)
 *
 * so it is continuous at the end of the warm-up (t = 0 gives base) and ends at base * final.
 * Steps past `steps` keep the final rate.
 */
export const cosineLearningRate = (step: number, options: CosineScheduleOptions): number => {
  const { base, warmup, steps, final = 0.01 } = options;
  count('step', step, 1);
  positive('base', base);
  count('warmup', warmup, 0);
  count('steps', steps, 1);
  if (!(final >= 0 && final <= 1)) throw new RangeError(`cosineLearningRate: final must be in [0, 1], got ${final}`);
  if (step <= warmup) return (base * step) / warmup;
  const t = Math.min(1, (step - warmup) / Math.max(1, steps - warmup));
  return base * (final + ((1 - final) * (1 + Math.cos(Math.PI * t))) / 2);
};
