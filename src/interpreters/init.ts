/**
 * The initialisation interpreter: a fresh params tree for a spec, from one integer seed.
 * Given a batch of data (and its conditioning), the data flows through the layers as they are
 * initialised, so every ActNorm sees its own input and normalises it (Glow's data-dependent init).
 * Inside `invert`, layers are initialised without data (the data would arrive at their output side).
 */
import * as tf from '@tensorflow/tfjs';
import type { CondShapes, Shapes } from '../dsl/shape.js';
import type { Flow, FlowSpec } from '../dsl/spec.js';
import { seededRandom } from '../dsl/random.js';
import { kernelOf, type Context } from './kernels/index.js';
import type { ParamTree } from './params.js';
import { signature } from './shapes.js';
import type { ContextOf, InputsOf } from './tensors.js';
import { checkInputs, run } from './transform.js';

export interface InitOptions<I extends Shapes, C extends CondShapes> {
  readonly seed?: number;
  /** A batch at the flow's input for data-dependent initialisation. */
  readonly data?: InputsOf<I>;
  readonly ctx?: ContextOf<C>;
}

interface Streams {
  readonly random: () => number;
  readonly nextSeed: () => number;
}

type Initialised = { readonly params: ParamTree; readonly outs: tf.Tensor4D[] | undefined };

const initNode = (spec: FlowSpec, streams: Streams, data: tf.Tensor4D[] | undefined, ctx: Context): Initialised => {
  const sequence = (specs: readonly FlowSpec[]): Initialised => {
    let outs = data;
    const params: ParamTree[] = [];
    for (const s of specs) {
      const r = initNode(s, streams, outs, ctx);
      params.push(r.params);
      outs = r.outs;
    }
    return { params, outs };
  };
  switch (spec.kind) {
    case 'chain':
      return sequence(spec.steps);
    case 'repeat':
      return sequence(Array.from({ length: spec.n }, () => spec.body));
    case 'invert': {
      const { params } = initNode(spec.body, streams, undefined, ctx);
      return { params, outs: data && run(spec, params, data, ctx, 'forward').outs };
    }
    case 'parallel': {
      let offset = 0;
      const params: ParamTree[] = [];
      const outs: tf.Tensor4D[] = [];
      for (const branch of spec.branches) {
        const arity = signature(branch).ins.length;
        const r = initNode(branch, streams, data?.slice(offset, offset + arity), ctx);
        offset += arity;
        params.push(r.params);
        outs.push(...(r.outs ?? []));
      }
      return { params, outs: data && outs };
    }
    case 'split':
    case 'concat':
      return { params: {}, outs: data && run(spec, {}, data, ctx, 'forward').outs };
    default: {
      const kernel = kernelOf(spec);
      const x = data?.[0];
      const params = kernel.init(spec, { ...streams, ...(x === undefined ? {} : { data: x }), ctx });
      return { params, outs: x && [kernel.forward(spec, params, x, ctx).out] };
    }
  }
};

/** Fresh parameters for `flow`; deterministic in `seed` (default 0). */
export const init = <I extends Shapes, O extends Shapes, C extends CondShapes>(
  flow: Flow<I, O, C>,
  options: InitOptions<I, C> = {},
): ParamTree => {
  const sig = signature(flow);
  const random = seededRandom(options.seed ?? 0);
  const streams: Streams = { random, nextSeed: () => Math.floor(random() * 2 ** 31) };
  const raw = options.data as tf.Tensor4D | readonly tf.Tensor4D[] | undefined;
  const data = raw === undefined ? undefined : raw instanceof tf.Tensor ? [raw] : [...raw];
  if (data !== undefined) checkInputs(data, sig.ins, 'init data');
  const ctx = (options.ctx ?? {}) as Context;
  return tf.tidy(() => initNode(flow, streams, data, ctx).params as tf.TensorContainer) as ParamTree;
};
