/**
 * The tensor semantics of one primitive bijector: its parameters and its forward and inverse passes.
 * Tensors are NHWC ([N,H,W,C]); log-dets are per sample ([N]).
 */
import type * as tf from '@tensorflow/tfjs';
import type { PrimitiveSpec } from '../../dsl/spec.js';
import type { ParamRecord, ShapeRecord } from '../params.js';

/** Conditioning tensors by name, NHWC. */
export type Context = { readonly [name: string]: tf.Tensor4D };

export interface Pass {
  readonly out: tf.Tensor4D;
  /** log|det| of this pass's Jacobian, per sample. */
  readonly logDet: tf.Tensor1D;
}

export interface InitArgs {
  /** Seeds for tf random ops, drawn from the interpreter's seeded stream. */
  readonly nextSeed: () => number;
  /** A JS uniform [0,1) stream from the same seed (for matrices built on the CPU). */
  readonly random: () => number;
  /** A batch at this layer's input for data-dependent initialisation, if one was given. */
  readonly data?: tf.Tensor4D;
  readonly ctx?: Context;
}

export interface Kernel<S extends PrimitiveSpec> {
  /** Shapes of the parameters (the tree init returns). */
  readonly paramShapes: (spec: S) => ShapeRecord;
  /** Names of parameters that are fixed after init (buffers, e.g. the LU permutation). */
  readonly frozen?: readonly string[];
  readonly init: (spec: S, args: InitArgs) => ParamRecord;
  readonly forward: (spec: S, params: ParamRecord, x: tf.Tensor4D, ctx: Context) => Pass;
  readonly inverse: (spec: S, params: ParamRecord, y: tf.Tensor4D, ctx: Context) => Pass;
}
