/**
 * The initialisation interpreter: a fresh params tree for a spec, from one integer seed.
 * Given a batch of data (and its conditioning), the data flows through the layers as they are
 * initialised, so every ActNorm sees its own input and normalises it (Glow's data-dependent init).
 * Inside `invert`, layers are initialised without data (the data arrives at their output side) and
 * the data is carried on through their inverse.
 */
import * as tf from '@tensorflow/tfjs';
import type { Context, InitArgs } from '../dsl/definition.js';
import { fold, type FoldTable } from '../dsl/fold.js';
import type { ParamTree } from '../dsl/params.js';
import { seededRandom } from '../dsl/random.js';
import { definitionOf } from '../dsl/registry.js';
import type { CondShapes, Shapes } from '../dsl/shape.js';
import { signature } from '../dsl/signature.js';
import type { Flow } from '../dsl/spec.js';
import type { ContextOf, InputsOf } from './tensors.js';
import { checkInputs } from './transform.js';

/** Options of `init`. */
export interface InitOptions<I extends Shapes, C extends CondShapes> {
  /** Seed of the random initialisations (default 0). */
  readonly seed?: number;
  /** A batch at the flow's input for data-dependent initialisation. */
  readonly data?: InputsOf<I>;
  /** Context tensors for the init batch of a conditional flow. */
  readonly ctx?: ContextOf<C>;
}

const initTable = (streams: Pick<InitArgs, 'random' | 'nextSeed'>, ctx: Context): FoldTable<tf.Tensor, ParamTree> => ({
  primitive: (spec, node) => {
    const definition = definitionOf(spec);
    const data = node.dir === 'forward' ? node.ins : undefined;
    const params = definition.params.init(spec, { ...streams, ...(data === undefined ? {} : { data }), ctx });
    const maths = node.dir === 'forward' ? definition.forward : definition.inverse;
    return { outs: node.ins && maths(spec, params, node.ins, ctx).outs, result: params };
  },
  sequence: (children) => children,
  parallel: (branches) => branches,
  invert: (body) => body,
});

/** Fresh parameters for `flow`; deterministic in `seed` (default 0). */
export const init = <I extends Shapes, O extends Shapes, C extends CondShapes>(flow: Flow<I, O, C>, options: InitOptions<I, C> = {}): ParamTree => {
  const sig = signature(flow);
  const random = seededRandom(options.seed ?? 0);
  const streams = { random, nextSeed: () => Math.floor(random() * 2 ** 31) };
  const raw = options.data as tf.Tensor | readonly tf.Tensor[] | undefined;
  const data = raw === undefined ? undefined : raw instanceof tf.Tensor ? [raw] : [...raw];
  if (data !== undefined) checkInputs(data, sig.ins, 'init data');
  const ctx = (options.ctx ?? {}) as Context;
  return tf.tidy(() => fold(flow, initTable(streams, ctx), { ins: data }).result as tf.TensorContainer) as ParamTree;
};
