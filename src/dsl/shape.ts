/**
 * Event shapes, in the paper's channel-first notation [C, H, W].
 *
 * Tensors themselves are NHWC (tfjs's native layout): an event of shape [C, H, W] is a tensor of
 * shape [N, H, W, C]. Specs speak [C, H, W]; only the kernels translate.
 *
 * Literal dimensions compute at the type level (squeeze: 4C, H/2) with `ts-arithmetic`; a dimension
 * only known at run time is `number`, and the shape interpreter checks it when the flow is built.
 */
import type { Add, Divide, IsEven, Multiply, Subtract } from 'ts-arithmetic';

export type Shape3 = readonly [number, number, number];
/** The event shapes a flow consumes or produces: one per tensor, in order. */
export type Shapes = readonly Shape3[];
/** Named conditioning inputs and their event shapes. */
export type CondShapes = { readonly [name: string]: Shape3 };
/** No conditioning. */
export type NoCond = {};

export type Channels<S extends Shape3> = S[0];
export type Height<S extends Shape3> = S[1];
export type Width<S extends Shape3> = S[2];

/** [C, H, W] -> [4C, H/2, W/2] */
export type Squeezed<S extends Shape3> = readonly [Multiply<S[0], 4>, Divide<S[1], 2>, Divide<S[2], 2>];
/** [C, H, W] -> [C/4, 2H, 2W] */
export type Unsqueezed<S extends Shape3> = readonly [Divide<S[0], 4>, Multiply<S[1], 2>, Multiply<S[2], 2>];
/** [C, H, W] with C replaced. */
export type WithChannels<S extends Shape3, C extends number> = readonly [C, S[1], S[2]];
/** The two halves of a channel split at `At`. */
export type SplitAt<S extends Shape3, At extends number> = readonly [
  WithChannels<S, At>,
  WithChannels<S, Subtract<S[0], At>>,
];
/** Channels of two shapes concatenated (spatial sizes must agree). */
export type Concatenated<A extends Shape3, B extends Shape3> = readonly [Add<A[0], B[0]>, A[1], A[2]];
/** Half the channels (the default split point). */
export type HalfChannels<S extends Shape3> = Divide<S[0], 2>;

/** Resolves to `unknown` when H and W are even (or not known until run time), else to an error type. */
export type EvenSpatial<S extends Shape3> = IsEven<S[1]> extends 0
  ? { readonly error: 'squeeze needs an even height'; readonly height: S[1] }
  : IsEven<S[2]> extends 0
    ? { readonly error: 'squeeze needs an even width'; readonly width: S[2] }
    : unknown;

/** Resolves to `unknown` when C is a multiple of 4 (or not known), else to an error type. */
export type ChannelsDivisibleBy4<S extends Shape3> = IsEven<Divide<S[0], 2>> extends 0
  ? { readonly error: 'unsqueeze needs channels divisible by 4'; readonly channels: S[0] }
  : unknown;

export const formatShape = (s: readonly number[]): string => `[${s.join(',')}]`;

export const sizeOf = (s: Shape3): number => s[0] * s[1] * s[2];

export const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Event shape [C,H,W] to the tfjs tensor shape [N,H,W,C]. */
export const toNHWC = (s: Shape3, batch: number): [number, number, number, number] => [batch, s[1], s[2], s[0]];

/** A positive integer dimension? */
export const isDim = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0;
