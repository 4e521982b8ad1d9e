/**
 * Run configurations: JSON files validated with io-ts, and presets for each bundled task and for the
 * paper's full-size settings. A bad config gets one message per problem, naming the field.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

const positiveInt = new t.Type<number, number, unknown>(
  'positive integer',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u > 0,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u > 0 ? t.success(u) : t.failure(u, c)),
  t.identity,
);
const nonNegativeInt = new t.Type<number, number, unknown>(
  'non-negative integer',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 0,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c)),
  t.identity,
);
const positive = new t.Type<number, number, unknown>(
  'positive number',
  (u): u is number => typeof u === 'number' && u > 0,
  (u, c) => (typeof u === 'number' && u > 0 ? t.success(u) : t.failure(u, c)),
  t.identity,
);
const fraction = new t.Type<number, number, unknown>(
  'number in (0, 1)',
  (u): u is number => typeof u === 'number' && u > 0 && u < 1,
  (u, c) => (typeof u === 'number' && u > 0 && u < 1 ? t.success(u) : t.failure(u, c)),
  t.identity,
);

export const TaskName = t.keyof({ sr: null, colorize: null, 'inpaint-center': null, 'inpaint-right': null, sketch: null });
export type TaskName = t.TypeOf<typeof TaskName>;

const DataSource = t.union([
  t.strict({ source: t.literal('mnist'), limit: positiveInt }),
  /**
   * A folder of images (searched recursively, as FFHQ's, CelebA's and LSUN's exports are laid out):
   * 'single' (targets; the task makes the conditions), 'paired' (subfolders A = conditions and
   * B = targets, matched by name) or 'side-by-side' (each file is [condition | target], as in pix2pix's
   * edges2shoes).
   */
  t.strict({ source: t.literal('folder'), path: t.string, layout: t.keyof({ single: null, paired: null, 'side-by-side': null }) }),
]);

export const RunConfig = t.strict({
  name: t.string,
  task: TaskName,
  data: DataSource,
  /** Images are resized to size x size. */
  size: positiveInt,
  model: t.strict({
    variant: t.keyof({ caflow: null, dualglow: null }),
    scales: positiveInt,
    encoderDepth: nonNegativeInt,
    conditionalDepth: nonNegativeInt,
    encoderHidden: positiveInt,
    conditionalHidden: positiveInt,
    lambda: t.number,
    clamp: positive,
  }),
  train: t.strict({
    steps: positiveInt,
    batchSize: positiveInt,
    lr: positive,
    warmup: nonNegativeInt,
    clipNorm: positive,
    mode: t.keyof({ joint: null, pretrain: null }),
    checkpointEvery: positiveInt,
    seed: nonNegativeInt,
    valFraction: fraction,
  }),
  eval: t.intersection([
    t.strict({
      conditions: positiveInt,
      samples: positiveInt,
      temperature: positive,
    }),
    // Draws of uniform dequantisation noise for the held-out NLL (default 8; src/experiments/evaluate.ts).
    t.partial({ nllDraws: positiveInt }),
  ]),
});
export type RunConfig = t.TypeOf<typeof RunConfig>;

const pathOf = (context: t.Context): string =>
  context
    .slice(1)
    .filter((c) => c.key !== '' && !/^\d+$/.test(c.key))
    .map((c) => c.key)
    .join('.');

/** Validates a parsed JSON config; every problem is reported as `field: expected X, got Y`. */
export const decodeRunConfig = (json: unknown): E.Either<string[], RunConfig> => {
  const r = RunConfig.decode(json);
  if (E.isRight(r)) return r;
  const messages = r.left.map((e) => {
    const last = e.context[e.context.length - 1];
    const where = pathOf(e.context) || '(root)';
    return e.message ?? `${where}: expected ${last?.type.name ?? 'a value'}, got ${JSON.stringify(e.value)}`;
  });
  return E.left([...new Set(messages)]);
};

const mnistBase = (task: TaskName, colour: boolean): RunConfig => ({
  name: `mnist-${task}`,
  task,
  data: { source: 'mnist', limit: 10000 },
  size: 32,
  model: {
    variant: 'caflow',
    scales: 3,
    encoderDepth: 2,
    conditionalDepth: 2,
    encoderHidden: colour ? 24 : 16,
    conditionalHidden: colour ? 24 : 16,
    lambda: 1e-3,
    clamp: 2,
  },
  train: { steps: 400, batchSize: 16, lr: 1e-3, warmup: 50, clipNorm: 1, mode: 'joint', checkpointEvery: 100, seed: 0, valFraction: 0.1 },
  eval: { conditions: 64, samples: 8, temperature: 0.5 },
});

/** The paper's full-size settings (docs/caflow.md §3-4), for a user's own image folders. */
const paper = (name: string, task: TaskName, temperature: number): RunConfig => ({
  name,
  task,
  data: { source: 'folder', path: './data/images', layout: task === 'sketch' ? 'side-by-side' : 'single' },
  size: 64,
  model: { variant: 'caflow', scales: 4, encoderDepth: 16, conditionalDepth: 8, encoderHidden: 64, conditionalHidden: 32, lambda: 1e-3, clamp: 2 },
  train: { steps: 200000, batchSize: 8, lr: 1e-3, warmup: 500, clipNorm: 1, mode: 'joint', checkpointEvery: 1000, seed: 0, valFraction: 0.05 },
  eval: { conditions: 256, samples: 8, temperature },
});

export const presets: Readonly<Record<string, RunConfig>> = {
  'mnist-sr': mnistBase('sr', false),
  'mnist-colorize': mnistBase('colorize', true),
  'mnist-inpaint-center': mnistBase('inpaint-center', false),
  'mnist-inpaint-right': mnistBase('inpaint-right', false),
  'mnist-sketch': mnistBase('sketch', false),
  'paper-ffhq-sr': paper('paper-ffhq-sr', 'sr', 0.5),
  'paper-lsun-colorize': paper('paper-lsun-colorize', 'colorize', 0.85),
  'paper-celeba-inpaint': paper('paper-celeba-inpaint', 'inpaint-center', 0.5),
  'paper-edges2shoes-sketch': paper('paper-edges2shoes-sketch', 'sketch', 0.8),
};

/** A model variant's name as reports and figures print it: CAFLOW, Dual-Glow+ (others as given). */
export const variantName = (variant: string): string => (variant === 'caflow' ? 'CAFLOW' : variant === 'dualglow' ? 'Dual-Glow+' : variant);
