/**
 * The studio's flow, free of the DOM: the preset distributions (what `typed-flows fit --flow <name>`
 * fits on 2-D rows), the live check of an edited spec (the codec's issues, each at its path, plus the
 * studio's one rule: unconditional, on vectors [2]), its layer table, and parameters to and from flat
 * arrays.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { distributions, flattenParams, paramsFromFlat, signature, summaryRows, type ParamTree, type SpecIssue, type SummaryRow } from '../../../src/index.js';
import type { FitSettings, FlatParams, StudioModel } from './protocol.js';

type AnyDistribution = distributions.AnyDistribution;

/** The presets the studio offers: `fit --flow`'s names. */
export const studioPresets = distributions.modelPresets;
export type StudioPreset = distributions.ModelPreset;

/** Components of the `gmm` preset's mixture (the CLI picks k on validation rows; here it is in the spec to edit). */
export const GMM_COMPONENTS = 8;

/**
 * The distribution `typed-flows fit --flow <name>` fits to 2-D rows: a preset flow over N(0, I), or a
 * Gaussian / Gaussian mixture, standardised (the fit's default).
 */
export const presetDistribution = (name: StudioPreset, trainRows: number): AnyDistribution => {
  if (name === 'gaussian') return distributions.mixtureDistribution(2, 1, true);
  if (name === 'gmm') return distributions.mixtureDistribution(2, GMM_COMPONENTS, true);
  const flow = distributions.presetFlow(name, 2, trainRows);
  return distributions.standardized(distributions.transformed(distributions.standardNormals(signature(flow).outs), flow)) as AnyDistribution;
};

/** The objective a preset trains with: a continuous flow by flow matching (the CLI's advice), the rest by likelihood. */
export const presetObjective = (name: StudioPreset): 'likelihood' | 'flow-matching' => (name === 'cnf' ? 'flow-matching' : 'likelihood');

/**
 * The page's fit settings for a number of steps: fit's defaults except a peak learning rate of 3e-3
 * (a few hundred steps, not fit's thousand) and an evaluation every steps/40 steps (at most 25), so the
 * curves have about 40 points.
 */
export const studioSettings = (steps: number, seed: number, objective: FitSettings['objective'], lr = 3e-3, batchSize = 256): FitSettings => ({
  steps,
  seed,
  lr,
  batchSize,
  evalEvery: Math.max(1, Math.min(25, Math.round(steps / 40))),
  objective,
});

/** fit's options for the studio's settings: no early stop (the page shows the whole run; fit keeps the best step). */
export const fitOptionsOf = (s: FitSettings): distributions.FitOptions<Record<string, never>> => ({
  steps: s.steps,
  seed: s.seed,
  lr: s.lr,
  batchSize: s.batchSize,
  evalEvery: s.evalEvery,
  objective: s.objective,
  patience: Infinity,
});

/** The spec text the editor starts with for a preset. */
export const presetText = (name: StudioPreset, trainRows: number): string => distributions.encodeDistribution(presetDistribution(name, trainRows));

/** Checks edited spec text: the distribution, or every issue with the path of its node. */
export const checkSpec = (text: string): E.Either<readonly SpecIssue[], AnyDistribution> => {
  const decoded = distributions.parseDistribution(text);
  if (E.isLeft(decoded)) return decoded;
  const sig = distributions.distributionSignature(decoded.right);
  const event = sig.event.map((s) => `[${s.join(', ')}]`).join(' ');
  if (sig.event.length !== 1 || sig.event[0]?.length !== 1 || sig.event[0][0] !== 2)
    return E.left([{ path: '$', message: `the studio's data are points in the plane: the distribution's events must be one vector [2], got ${event}` }]);
  if (Object.keys(sig.cond).length > 0) return E.left([{ path: '$', message: `the studio fits p(x) without conditioning; this distribution is conditioned on ${Object.keys(sig.cond).join(', ')}` }]);
  return E.right(decoded.right as AnyDistribution);
};

/** The spec text of a checked distribution, or throws with its first issue (for specs the page already checked). */
export const decodeChecked = (text: string): AnyDistribution => {
  const checked = checkSpec(text);
  if (E.isLeft(checked)) throw new Error(checked.left.map((i) => `${i.path}: ${i.message}`).join('; '));
  return checked.right;
};

/** Each flow inside a distribution with the path of its node in the JSON ($.base.flow). */
export const flowsWithPaths = (dist: distributions.DistributionSpec, path = '$'): Array<{ readonly path: string; readonly flow: distributions.TransformedSpec['flow'] }> =>
  dist.kind === 'transformed'
    ? [{ path: `${path}.flow`, flow: dist.flow }, ...flowsWithPaths(dist.base, `${path}.base`)]
    : dist.kind === 'standardized'
      ? flowsWithPaths(dist.base, `${path}.base`)
      : [];

/** The layer table of every flow in the distribution (paths from the flow's node) and the trainable parameter count of it all. */
export const layerTable = (dist: AnyDistribution): { readonly rows: ReadonlyArray<SummaryRow & { readonly flow: string }>; readonly params: number; readonly base: string } => {
  const rows = flowsWithPaths(dist).flatMap(({ path, flow }) => summaryRows(flow).map((r) => ({ ...r, flow: path })));
  const info = distributions.distributionParamInfo(dist).filter((p) => p.trainable);
  const params = info.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  return { rows, params, base: baseName(dist) };
};

const baseName = (dist: distributions.DistributionSpec): string => {
  switch (dist.kind) {
    case 'transformed':
    case 'standardized':
      return baseName(dist.base);
    case 'gaussianMixture':
      return dist.components === 1 ? 'a full-covariance Gaussian' : `a mixture of ${dist.components} full-covariance Gaussians`;
    case 'studentT':
      return "independent Student-t's";
    case 'standardNormal':
      return 'N(0, I)';
    case 'diagonalNormal':
      return 'a diagonal normal';
  }
};

/** A parameter tree as flat arrays (read once from the backend). */
export const flatParams = (params: ParamTree): FlatParams =>
  Object.fromEntries(flattenParams(params).map(([path, t]) => [path, { shape: [...t.shape], values: Float32Array.from(t.dataSync() as Float32Array) }]));

/** Flat arrays back into the distribution's parameter tree (new tensors, the caller's to dispose). */
export const treeOf = (dist: AnyDistribution, params: FlatParams): ParamTree =>
  paramsFromFlat(
    distributions.distributionParamShapes(dist),
    Object.entries(params).map(([path, p]) => [path, tf.tensor(p.values, [...p.shape])] as const),
  );

/** The model's distribution and its parameter tree (the tree is the caller's to dispose). */
export const modelOf = (model: StudioModel): { readonly dist: AnyDistribution; readonly params: ParamTree } => {
  const dist = decodeChecked(model.specJson);
  return { dist, params: treeOf(dist, model.params) };
};
