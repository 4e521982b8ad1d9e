/** Typed views of the tensors that a flow with given shapes consumes and produces. */
import type * as tf from '@tensorflow/tfjs';
import type { CondShapes, NoCond, Shape3, Shapes } from '../dsl/shape.js';

/** One NHWC tensor per event shape. */
export type TensorsOf<S extends Shapes> = { readonly [K in keyof S]: tf.Tensor4D };

/** A single-input flow also takes its tensor bare. */
export type InputsOf<S extends Shapes> = S extends readonly [Shape3] ? tf.Tensor4D | TensorsOf<S> : TensorsOf<S>;

/** Conditioning tensors by name (NHWC). */
export type ContextOf<C extends CondShapes> = { readonly [K in keyof C]: tf.Tensor4D };

/**
 * The context argument: required with exactly the declared names when the conditioning is known to
 * the compiler, optional when there is none, and any record (checked at run time) for flows whose
 * conditioning was only known at run time (e.g. decoded from JSON).
 */
export type ContextArg<C extends CondShapes> = [keyof C] extends [never]
  ? [ctx?: ContextOf<NoCond>]
  : string extends keyof C
    ? [ctx?: { readonly [name: string]: tf.Tensor4D }]
    : [ctx: ContextOf<C>];
