/** Typed views of the tensors that a flow with given shapes consumes and produces. */
import type * as tf from '@tensorflow/tfjs';
import type { CondShapes, NoCond, Shape, Shapes } from '../dsl/shape.js';

/**
 * The channels-last tensor of a batch of events: rank 4 (NHWC) for an image [C,H,W], rank 2 for a
 * vector [D], a tensor of unknown rank for a shape whose rank is not known to the compiler.
 */
export type TensorOf<S extends Shape> = S extends readonly [number, number, number]
  ? tf.Tensor4D
  : S extends readonly [number]
    ? tf.Tensor2D
    : S extends readonly [number, number]
      ? tf.Tensor3D
      : tf.Tensor;

/** One tensor per event shape. */
export type TensorsOf<S extends Shapes> = { readonly [K in keyof S]: S[K] extends Shape ? TensorOf<S[K]> : never };

/** A single-input flow also takes its tensor bare. */
export type InputsOf<S extends Shapes> = S extends readonly [infer One extends Shape] ? TensorOf<One> | TensorsOf<S> : TensorsOf<S>;

/** The first tensor of a flow's outputs (or inputs). */
export type FirstTensorOf<S extends Shapes> = S extends readonly [infer First extends Shape, ...Shapes] ? TensorOf<First> : tf.Tensor;

/** Conditioning tensors by name (channels-last). */
export type ContextOf<C extends CondShapes> = { readonly [K in keyof C]: TensorOf<C[K]> };

/**
 * The context argument: required with exactly the declared names when the conditioning is known to
 * the compiler, optional when there is none, and any record (checked at run time) for flows whose
 * conditioning was only known at run time (e.g. decoded from JSON).
 */
export type ContextArg<C extends CondShapes> = [keyof C] extends [never]
  ? [ctx?: ContextOf<NoCond>]
  : string extends keyof C
    ? [ctx?: { readonly [name: string]: tf.Tensor }]
    : [ctx: ContextOf<C>];
