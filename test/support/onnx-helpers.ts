/**
 * Shared by the ONNX tests: run an exported direction of a flow on onnxruntime-node and compare it
 * with the tfjs interpreters on the same inputs, parameters and conditioning.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyFlow, FlowSpec } from '../../src/dsl/index.js';
import { fold, type FoldTable } from '../../src/dsl/fold.js';
import { disposeParams, domains, forward, inverse, perturbedParams, sampleInputs, signature, type ParamTree } from '../../src/interpreters/index.js';
import { toOnnx } from '../../src/interpreters/onnx/index.js';
import { onnxSession, type FloatArray } from '../../src/node/onnx-runtime.js';

export const feed = (t: tf.Tensor): FloatArray => ({ data: Float32Array.from(t.dataSync()), dims: t.shape });

/** Runs model bytes on onnxruntime-node (one thread: the tests share a small machine). */
export const runOnnx = async (bytes: Uint8Array, feeds: { readonly [name: string]: tf.Tensor }): Promise<{ [name: string]: FloatArray }> => {
  const session = await onnxSession(bytes, { intraOpThreads: 1 });
  try {
    return await session.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, feed(t)])));
  } finally {
    await session.release();
  }
};

/** Largest |onnx - tfjs| / (1 + |tfjs|) over the elements, after checking the shapes agree. */
export const normalisedError = (got: FloatArray | undefined, want: tf.Tensor): number => {
  if (got === undefined) throw new Error('missing ONNX output');
  if (got.dims.join(',') !== want.shape.join(',')) throw new Error(`ONNX output has dims [${got.dims}] but tfjs gives [${want.shape}]`);
  const w = want.dataSync();
  let worst = 0;
  for (let i = 0; i < w.length; i++) {
    const e = Math.abs((got.data[i] as number) - (w[i] as number)) / (1 + Math.abs(w[i] as number));
    worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst;
};

/** Largest |onnx - tfjs| over the elements (for the record; the tests bound the normalised error). */
export const absoluteError = (got: FloatArray | undefined, want: tf.Tensor): number => {
  const w = want.dataSync();
  let worst = 0;
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs((got?.data[i] ?? NaN) - (w[i] as number)));
  return worst;
};

export interface DirectionErrors {
  /** Worst normalised error of the outputs. */
  readonly outputs: number;
  readonly logDet: number;
  /** Worst absolute errors, for the record. */
  readonly outputsAbs: number;
  readonly logDetAbs: number;
}

const namesOf = (stem: string, n: number): string[] => (n === 1 ? [stem] : Array.from({ length: n }, (_, i) => `${stem}${i}`));

/**
 * Both directions of `flow` with perturbed (non-trivial) parameters: forward on inputs drawn from the
 * flow's domain, inverse on the forward's outputs (so bounded images are respected), each compared
 * with tfjs. Conditioning is standard normal.
 */
export const compareFlow = async (flow: AnyFlow, seed: number, batch: number, perturb = 0.2): Promise<{ forward: DirectionErrors; inverse: DirectionErrors }> => {
  const params: ParamTree = perturbedParams(flow, seed, perturb);
  const sig = signature(flow);
  const xs = sampleInputs(sig.ins, domains(flow), batch, seed);
  const ctx = Object.fromEntries(Object.entries(sig.cond).map(([k, c], i) => [k, tf.randomNormal([batch, ...c.slice(1), c[0] as number], 0, 1, 'float32', seed + 31 + i)]));
  const fwd = forward(flow, params)(xs, ctx);
  const inv = inverse(flow, params)(fwd.ys, ctx);
  try {
    const f = await runOnnx(toOnnx(flow, params, { direction: 'forward' }), { ...Object.fromEntries(namesOf('x', xs.length).map((n, i) => [n, xs[i] as tf.Tensor])), ...ctx });
    const b = await runOnnx(toOnnx(flow, params, { direction: 'inverse' }), { ...Object.fromEntries(namesOf('y', fwd.ys.length).map((n, i) => [n, fwd.ys[i] as tf.Tensor])), ...ctx });
    const errors = (got: { [name: string]: FloatArray }, stem: string, want: readonly tf.Tensor[], logDet: tf.Tensor): DirectionErrors => ({
      outputs: Math.max(...namesOf(stem, want.length).map((n, i) => normalisedError(got[n], want[i] as tf.Tensor))),
      logDet: normalisedError(got['logdet'], logDet),
      outputsAbs: Math.max(...namesOf(stem, want.length).map((n, i) => absoluteError(got[n], want[i] as tf.Tensor))),
      logDetAbs: absoluteError(got['logdet'], logDet),
    });
    return { forward: errors(f, 'y', fwd.ys, fwd.logDet), inverse: errors(b, 'x', inv.xs, inv.logDet) };
  } finally {
    tf.dispose([...xs, ...Object.values(ctx), ...fwd.ys, fwd.logDet, ...inv.xs, inv.logDet]);
    disposeParams(params);
  }
};

/** The primitive kinds a spec holds. */
export const kindsIn = (spec: FlowSpec): Set<string> => {
  const kinds = new Set<string>();
  const table: FoldTable<never, null> = {
    primitive: (s) => {
      kinds.add(s.kind);
      return { outs: undefined, result: null };
    },
    sequence: () => null,
    parallel: () => null,
    invert: () => null,
  };
  fold(spec, table);
  return kinds;
};
