/**
 * Event shapes, rank-generic: channels first, as in the papers ([C,H,W] for images, [D] for vectors).
 *
 * Tensors are channels-last (tfjs's native layout): an event of shape [C, ...spatial] is a tensor of
 * shape [N, ...spatial, C], so [C,H,W] is NHWC [N,H,W,C] and [D] is [N,D]. Specs speak channels-first;
 * only the tensor maths translates. Every per-channel bijector (couplings, permutations, actnorm,
 * channel mixing) works on the tensor's last axis whatever the rank.
 *
 * Literal dimensions compute at the type level (squeeze: 4C, H/2) with `ts-arithmetic`; a dimension
 * only known at run time is `number`, and the shape rules check it when the flow is built.
 */
import type { Add, Divide, IsEven, Multiply, Subtract } from 'ts-arithmetic';

/** An event shape: channels first, then any spatial dimensions. */
export type Shape = readonly number[];
/** A vector event [D]. */
export type Shape1 = readonly [number];
/** An image event [C, H, W]. */
export type Shape3 = readonly [number, number, number];
/** The event shapes a flow consumes or produces: one per tensor, in order. */
export type Shapes = readonly Shape[];
/** Named conditioning inputs and their event shapes. */
export type CondShapes = { readonly [name: string]: Shape };
/** No conditioning. */
export type NoCond = {};

type Tail<S extends Shape> = S extends readonly [number, ...infer T extends readonly number[]] ? T : readonly number[];

/** The channel count of an event shape (its first dimension). */
export type Channels<S extends Shape> = S[0];
/** The height of an image event shape [C,H,W]. */
export type Height<S extends Shape3> = S[1];
/** The width of an image event shape [C,H,W]. */
export type Width<S extends Shape3> = S[2];

/** [C, H, W] -> [4C, H/2, W/2] */
export type Squeezed<S extends Shape3> = readonly [Multiply<S[0], 4>, Divide<S[1], 2>, Divide<S[2], 2>];
/** [C, H, W] -> [C/4, 2H, 2W] */
export type Unsqueezed<S extends Shape3> = readonly [Divide<S[0], 4>, Multiply<S[1], 2>, Multiply<S[2], 2>];
/** The shape with its channel count replaced, spatial dimensions kept. */
export type WithChannels<S extends Shape, C extends number> = readonly [C, ...Tail<S>];
/** The two halves of a channel split at `At`. */
export type SplitAt<S extends Shape, At extends number> = readonly [WithChannels<S, At>, WithChannels<S, Subtract<S[0], At>>];
/** Channels of two shapes concatenated (spatial sizes must agree). */
export type Concatenated<A extends Shape, B extends Shape> = WithChannels<A, Add<A[0], B[0]>>;
/** Half the channels (the default split point). */
export type HalfChannels<S extends Shape> = Divide<S[0], 2>;

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

/** A shape as written in messages: `[3,32,32]`. */
export const formatShape = (s: readonly number[]): string => `[${s.join(',')}]`;

/** Number of elements of one event. */
export const sizeOf = (s: Shape): number => s.reduce((n, d) => n * d, 1);

/** Number of elements of several events together. */
export const sizeOfAll = (shapes: readonly Shape[]): number => shapes.reduce((n, s) => n + sizeOf(s), 0);

/** True when two shapes have the same dimensions in the same order. */
export const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** The spatial dimensions of an event (everything after the channels). */
export const spatialOf = (s: Shape): readonly number[] => s.slice(1);

/** Event shape [C, ...spatial] to the channels-last tensor shape [N, ...spatial, C]. */
export const tensorShape = (s: Shape, batch: number): number[] => [batch, ...s.slice(1), s[0] as number];

/** Event shape [C,H,W] to the tfjs tensor shape [N,H,W,C]. */
export const toNHWC = (s: Shape3, batch: number): [number, number, number, number] => [batch, s[1], s[2], s[0]];

/** A positive integer dimension? */
export const isDim = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0;

/** An event shape of positive integers of one of the given ranks (any rank >= 1 when omitted)? */
export const isShape = (u: unknown, ranks?: readonly number[]): u is Shape =>
  Array.isArray(u) && u.length >= 1 && (ranks === undefined || ranks.includes(u.length)) && u.every(isDim);

/** How an event of the given ranks is written in messages: [C,H,W], [D] or [C,...]. */
export const shapeNotation = (ranks?: readonly number[]): string => {
  if (ranks === undefined) return 'an event shape [C,...] of positive integers';
  const names = ranks.map((r) => (r === 3 ? '[C,H,W]' : r === 1 ? '[D]' : `of rank ${r}`));
  const counts = ranks.map((r) => ['one', 'two', 'three', 'four'][r - 1] ?? String(r));
  return ranks.length === 1
    ? `an event shape ${names[0]} of ${counts[0]} positive integer${ranks[0] === 1 ? '' : 's'}`
    : `an event shape ${names.join(' or ')} of positive integers`;
};
