import type { ParamTree } from '../dsl/params.js';

/** CAFLOW's parameters: one tree per flow of the model, mirroring its spec. */
export type CaflowParams = {
  readonly R: ParamTree;
  readonly T: ParamTree;
  readonly G: readonly ParamTree[];
};
