/**
 * Size limits of the command line: before a command allocates, it estimates what the request needs
 * from the spec's JSON alone (element counts, parameter counts, repeat multiplicity; no tensors, no
 * interpreter) and refuses with a message naming the limit, instead of crashing with a RangeError or
 * a wasm out-of-bounds trace minutes later, or running out of memory.
 *
 * - Layers: a spec may expand (repeat multiplicity included) to at most {@link MAX_LAYERS} primitive
 *   layers; `summary` and `verify` walk every one of them.
 * - Memory: the estimate of a request must fit the budget, TYPED_FLOWS_MAX_MEMORY (e.g. `8GB`,
 *   `512MB`, bytes), by default half of this machine's memory and at most 4 GiB (the wasm backend's
 *   heap ceiling).
 *
 * The estimates are rough lower bounds (float32, the tensors a pass keeps alive inside one tf.tidy):
 * what they refuse cannot run; what they let through may still be slow.
 */
import { totalmem } from 'node:os';
import { UsageError } from './io.js';
import type { FlowSpec } from '../dsl/spec.js';
import { splineValuesPerElement } from '../dsl/transformers/spline.js';
import { paramElements } from '../interpreters/param-shapes.js';

export const MAX_LAYERS = 100_000;
export const MEMORY_ENV_VAR = 'TYPED_FLOWS_MAX_MEMORY';
const GiB = 1024 ** 3;
const WASM_HEAP = 4 * GiB;

/** A request that exceeds a limit: bad input (exit code 2); the message names the limit. */
export class LimitError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'LimitError';
  }
}

const UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: GiB, tib: 1024 ** 4 };

/** Parses `8GB`, `512 MiB`, `1e9`; undefined when it is not a positive size. */
export const parseBytes = (text: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
  if (m === null || unit === undefined) return undefined;
  const bytes = Number(m[1]) * unit;
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
};

export interface MemoryBudget {
  readonly bytes: number;
  /** Where the number comes from, for messages. */
  readonly source: string;
}

/** The memory a single request may use (see the module comment). */
export const memoryBudget = (env: NodeJS.ProcessEnv = process.env, physical = totalmem()): MemoryBudget => {
  const raw = env[MEMORY_ENV_VAR];
  if (raw !== undefined && raw.trim() !== '') {
    const bytes = parseBytes(raw);
    if (bytes === undefined) throw new UsageError(`${MEMORY_ENV_VAR}='${raw}' is not a size; write e.g. 8GB, 512MB or a number of bytes.`);
    return { bytes, source: `${MEMORY_ENV_VAR}=${raw}` };
  }
  const half = physical / 2;
  return half < WASM_HEAP
    ? { bytes: half, source: `half of this machine's memory; set ${MEMORY_ENV_VAR} to change it` }
    : { bytes: WASM_HEAP, source: `the wasm backend's heap ceiling; set ${MEMORY_ENV_VAR} to change it` };
};

export const formatBytes = (bytes: number): string => {
  if (bytes >= 1e12) return `${(bytes / 1e12).toPrecision(3)} TB`;
  if (bytes >= 1e9) return `${(bytes / 1e9).toPrecision(3)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toPrecision(3)} MB`;
  return `${Math.ceil(bytes / 1e3)} kB`;
};

const count = (n: number): string => (n >= 1e6 ? n.toExponential(2).replace('e+', 'e') : n.toLocaleString('en-US'));

/** What a spec expands to, repeat multiplicity included. */
export interface SpecCost {
  /** Primitive layers. */
  readonly layers: number;
  /** Parameter elements, frozen ones included (each definition's `params.shapes`, through the fold). */
  readonly params: number;
  /** Activation elements one sample keeps alive through one pass (every layer's output, networks' hidden layers). */
  readonly activations: number;
  /** The largest single activation, in elements per sample. */
  readonly largest: number;
  /** The largest event shape [C,H,W] met, for messages. */
  readonly largestShape: readonly number[];
  /** Path and n of the repeat with the largest total multiplicity ('' when none). */
  readonly repeat: { readonly path: string; readonly n: number } | undefined;
}

type Json = Record<string, unknown>;
const isObject = (u: unknown): u is Json => typeof u === 'object' && u !== null && !Array.isArray(u);
const isShape = (u: unknown): u is number[] => Array.isArray(u) && u.length > 0 && u.every((d) => typeof d === 'number' && Number.isFinite(d) && d >= 0);
const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Sum of the channels of a `cond` record of shapes. */
const condChannels = (cond: unknown): number => (isObject(cond) ? Object.values(cond).reduce((n: number, s) => n + (isShape(s) ? (s[0] ?? 0) : 0), 0) : 0);

/** Hidden activations (per position) of a coupling or autoregressive network: its hidden layers. */
const netHidden = (net: unknown): number => {
  if (!isObject(net)) return 0;
  const h = net['hidden'];
  // convNet: one width for its two hidden layers; mlp and made: one width per hidden layer.
  if (typeof h === 'number') return 2 * h;
  return Array.isArray(h) ? h.reduce((n: number, w) => n + (typeof w === 'number' ? w : 0), 0) : 0;
};

/** Extra activations (network hidden layers and outputs) of one primitive layer with input shape [C,H,W] or [D]. */
const primitiveExtra = (node: Json, shape: readonly number[]): number => {
  const [c = 0] = shape;
  const positions = shape.length >= 3 ? (shape[1] ?? 1) * (shape[2] ?? 1) : 1;
  switch (node['kind']) {
    case 'affineCoupling':
    case 'additiveCoupling':
    case 'conditionalAffine':
    case 'splineCoupling':
    case 'maskedAutoregressive': {
      const bins = typeof node['bins'] === 'number' ? node['bins'] : 0;
      const out = node['kind'] === 'splineCoupling' ? Math.ceil(c / 2) * splineValuesPerElement(bins) : 2 * c;
      return (netHidden(node['net']) + out + condChannels(node['cond'])) * positions;
    }
    default:
      return 0;
  }
};

/** The flows a JSON value holds: a CAFLOW model's encoders and priors, or the flow itself. */
const flowsOf = (json: unknown): FlowSpec[] => {
  if (!isObject(json)) return [];
  if (json['kind'] === 'caflow') return [json['encoderY'], json['encoderW'], ...(Array.isArray(json['priors']) ? json['priors'] : [])] as FlowSpec[];
  return [json as unknown as FlowSpec];
};

/**
 * What a decoded spec (a flow, or a CAFLOW model's { encoderY, encoderW, priors }) expands to: its
 * parameters through the fold of each definition's `params.shape`, its layers and activations by a
 * walk of its JSON; both multiply by every repeat's `n` without expanding anything.
 */
export const specCost = (json: unknown): SpecCost => {
  let layers = 0;
  const params = flowsOf(json).reduce((n, f) => n + paramElements(f), 0);
  let activations = 0;
  let largest = 0;
  let largestShape: readonly number[] = [];
  let repeat: SpecCost['repeat'];
  const visit = (node: unknown, times: number, path: string): void => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => visit(child, times, `${path}[${i}]`));
      return;
    }
    if (!isObject(node)) return;
    if (node['kind'] === 'repeat' && typeof node['n'] === 'number') {
      const n = Math.max(0, node['n']);
      if (repeat === undefined || times * n > repeat.n) repeat = { path, n: times * n };
      visit(node['body'], times * n, `${path}.body`);
      return;
    }
    const shape = isShape(node['shape']) ? node['shape'] : Array.isArray(node['shapes']) && isShape(node['shapes'][0]) ? (node['shapes'] as number[][]).flat() : undefined;
    if (typeof node['kind'] === 'string' && shape !== undefined && node['kind'] !== 'convNet') {
      const elements = Array.isArray(node['shapes']) ? (node['shapes'] as unknown[]).filter(isShape).reduce((n, s) => n + product(s), 0) : product(shape);
      layers += times;
      activations += times * (elements + primitiveExtra(node, shape));
      if (elements > largest) {
        largest = elements;
        largestShape = isShape(node['shape']) ? node['shape'] : shape;
      }
      return;
    }
    for (const [k, child] of Object.entries(node)) if (typeof child === 'object') visit(child, times, `${path}.${k}`);
  };
  visit(json, 1, '$');
  return { layers, params, activations, largest, largestShape, repeat };
};

/** Refuses a spec that expands to more than {@link MAX_LAYERS} layers (what `summary` and `verify` walk). */
export const checkLayers = (cost: SpecCost, what: string): void => {
  if (cost.layers <= MAX_LAYERS) return;
  const where = cost.repeat === undefined ? '' : ` (its repeats multiply to ${count(cost.repeat.n)} copies at ${cost.repeat.path})`;
  throw new LimitError(`${what}: the spec expands to ${count(cost.layers)} layers${where}; the limit is ${MAX_LAYERS.toLocaleString('en-US')} layers. Use a smaller repeat n.`);
};

/** Refuses a request whose estimated memory exceeds the budget. */
export const checkMemory = (bytes: number, what: string, fix: string, budget: MemoryBudget = memoryBudget()): void => {
  if (!(bytes > budget.bytes)) return;
  throw new LimitError(`${what} needs about ${formatBytes(bytes)} of memory; the limit is ${formatBytes(budget.bytes)} (${budget.source}). ${fix}`);
};

const F32 = 4;

/** `verify`: parameters (fresh, perturbed, gradients) and every layer's activations in both directions. */
export const verifyBytes = (cost: SpecCost, batch: number): number => F32 * (3 * cost.params + 3 * batch * cost.activations);

/** Sampling `samples` images from a model: every layer's activations for each sample, once. */
export const sampleBytes = (cost: SpecCost, samples: number): number => F32 * (cost.params + 2 * samples * cost.activations);

/** A training step: parameters, gradients and Adam's two moments; activations kept for the backward pass and their gradients. */
export const trainBytes = (cost: SpecCost, batch: number): number => F32 * (4 * cost.params + 3 * batch * cost.activations);

/** The check `train` makes before loading data: one step at the config's batch size must fit. */
export const checkTrain = (model: unknown, batch: number, budget: MemoryBudget = memoryBudget()): void => {
  const cost = specCost(model);
  checkMemory(trainBytes(cost, batch), `train with train.batchSize ${batch} (${count(cost.params)} parameters)`, 'Use a smaller train.batchSize or model.', budget);
};

/** The checks `verify` makes before it allocates anything. */
export const checkVerify = (spec: unknown, batch: number, budget: MemoryBudget = memoryBudget()): void => {
  const cost = specCost(spec);
  checkLayers(cost, 'verify');
  checkMemory(
    verifyBytes(cost, batch),
    `verify with --batch ${batch} (${count(cost.params)} parameters; largest activation [${cost.largestShape.join(',')}] per sample)`,
    'Use a smaller --batch or smaller shapes.',
    budget,
  );
};

/** The checks `sample` (and `eval`) make before drawing `count * k` samples from a model. */
export const checkSample = (
  model: unknown,
  conditions: number,
  k: number,
  what: string,
  budget: MemoryBudget = memoryBudget(),
  fix = 'Ask for fewer samples per condition (--k) or fewer conditions (--count).',
): void => {
  const cost = specCost(model);
  checkMemory(sampleBytes(cost, conditions * k), `${what}: ${count(conditions)} conditions x ${count(k)} samples`, fix, budget);
};

/**
 * How many of `conditions` conditions (each with its k samples) one sampling batch may hold within the
 * budget: `eval` samples in batches of that many. Refuses when one condition's k samples do not fit.
 */
export const conditionsPerSampleBatch = (model: unknown, conditions: number, k: number, what: string, budget: MemoryBudget = memoryBudget()): number => {
  const cost = specCost(model);
  checkMemory(sampleBytes(cost, k), `${what}: ${count(k)} samples of one condition`, 'Ask for fewer samples per condition (eval.samples).', budget);
  const perCondition = sampleBytes(cost, k) - sampleBytes(cost, 0);
  const fit = Math.floor((budget.bytes - sampleBytes(cost, 0)) / perCondition);
  return Math.max(1, Math.min(conditions, fit));
};
