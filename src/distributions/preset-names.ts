/**
 * The names of `fit`'s presets, apart from the presets themselves so that the command line can list
 * them without loading the library (src/distributions/presets.ts builds them).
 */
export const flowPresets = ['nsf', 'maf', 'realnvp', 'cnf'] as const;
/** The name of a preset flow (`nsf`, `maf`, `realnvp`, `cnf`). */
export type FlowPreset = (typeof flowPresets)[number];

/** Every model `fit --flow` takes by name: the flows, a full-covariance Gaussian and a Gaussian mixture (EM). */
export const modelPresets = [...flowPresets, 'gaussian', 'gmm'] as const;
/** The name of a preset model: a preset flow, `gaussian` or `gmm`. */
export type ModelPreset = (typeof modelPresets)[number];
