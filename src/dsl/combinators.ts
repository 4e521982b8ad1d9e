/**
 * Combinators: flows built from flows. A chain whose shapes do not line up is a compile error when
 * the shapes are literal, and a SpecError naming the step when they are only known at run time.
 */
import { built } from './build.js';
import type { Concatenated, CondShapes, HalfChannels, NoCond, Shape3, Shapes, SplitAt } from './shape.js';
import type { AnyFlow, Bijector, CondOf, Flow, InOf, OutOf } from './spec.js';

type Last<T extends readonly unknown[]> = T extends readonly [...unknown[], infer L] ? L : never;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The conditioning of several flows merged into one record (conflicting shapes intersect to never). */
export type MergeCond<Fs extends readonly unknown[]> =
  Simplify<UnionToIntersection<{ [K in keyof Fs]: CondOf<Fs[K]> }[number]>> extends infer C extends CondShapes ? C : never;

/** The compile-time error shown in place of a step whose input is not the previous step's output. */
export interface ChainShapeMismatch<Step extends number, PreviousOutput, ThisInput> {
  readonly 'chain step does not take the previous step output': {
    readonly step: Step;
    readonly previousOutput: PreviousOutput;
    readonly thisInput: ThisInput;
  };
}

/** Shapes agree when one is assignable to the other: literal dims must match, `number` matches any. */
type Compatible<A, B> = [A] extends [B] ? true : [B] extends [A] ? true : false;

/** Fs itself when every step takes the previous step's output, else Fs with the first bad step replaced. */
export type CheckChain<Fs extends readonly unknown[], Prev = null, Acc extends readonly unknown[] = []> =
  Fs extends readonly [infer F, ...infer Rest]
    ? CheckChain<
        Rest,
        OutOf<F>,
        [...Acc, Prev extends null ? F : Compatible<Prev, InOf<F>> extends true ? F : ChainShapeMismatch<Acc['length'], Prev, InOf<F>>]
      >
    : Acc;

export type ChainFlow<Fs extends readonly AnyFlow[]> = Flow<InOf<Fs[0]>, OutOf<Last<Fs>>, MergeCond<Fs>>;

/** f_n ∘ ... ∘ f_1: log|det J| is the sum of the steps' log-dets. */
export const chain = <const Fs extends readonly [AnyFlow, ...AnyFlow[]]>(...steps: Fs & CheckChain<Fs>): ChainFlow<Fs> =>
  built({ kind: 'chain', steps: [...steps] });

/** `n` copies of a flow that maps its shapes to themselves, each copy with its own parameters. */
export const repeat = <const I extends Shapes, C extends CondShapes>(body: Flow<I, I, C>, n: number): Flow<I, I, C> =>
  built({ kind: 'repeat', n, body });

/** The inverse flow: forward and inverse swap, and so do the log-dets. */
export const invert = <I extends Shapes, O extends Shapes, C extends CondShapes>(body: Flow<I, O, C>): Flow<O, I, C> =>
  built({ kind: 'invert', body });

export const identity = <const S extends Shape3>(shape: S): Bijector<S, S> => built({ kind: 'identity', shape });

/**
 * One tensor to two: channels [0, at) and [at, C). `at` defaults to C/2 (then C must be even).
 */
export function split<const S extends Shape3>(shape: S): Flow<readonly [S], SplitAt<S, HalfChannels<S>>>;
export function split<const S extends Shape3, const At extends number>(shape: S, at: At): Flow<readonly [S], SplitAt<S, At>>;
export function split(shape: Shape3, at?: number): AnyFlow {
  if (at === undefined && shape[0] % 2 !== 0) {
    throw new RangeError(`split: ${shape[0]} channels do not halve; pass the split point explicitly`);
  }
  return built({ kind: 'split', shape, at: at ?? shape[0] / 2 });
}

/** Two tensors to one, concatenated on channels: the inverse of split. */
export const concat = <const A extends Shape3, const B extends Shape3>(a: A, b: B): Flow<readonly [A, B], readonly [Concatenated<A, B>]> =>
  built({ kind: 'concat', shapes: [a, b] });

type FlattenIns<Fs extends readonly unknown[]> = Fs extends readonly [infer F, ...infer Rest] ? readonly [...InOf<F>, ...FlattenIns<Rest>] : readonly [];
type FlattenOuts<Fs extends readonly unknown[]> = Fs extends readonly [infer F, ...infer Rest] ? readonly [...OutOf<F>, ...FlattenOuts<Rest>] : readonly [];

export type ParallelFlow<Fs extends readonly AnyFlow[]> = Flow<FlattenIns<Fs>, FlattenOuts<Fs>, MergeCond<Fs>>;

/** Branches side by side: inputs are dealt to the branches in order and their outputs concatenated. */
export const parallel = <const Fs extends readonly [AnyFlow, ...AnyFlow[]]>(...branches: Fs): ParallelFlow<Fs> =>
  built({ kind: 'parallel', branches: [...branches] });

/**
 * Multiscale factor-out: split the channels in half, let the first half leave as a latent and run
 * `rest` on the second half. [S] -> [first half, ...outputs of rest].
 */
export const factorOut = <const S extends Shape3, O extends Shapes, C extends CondShapes = NoCond>(
  shape: S,
  rest: Flow<readonly [SplitAt<S, HalfChannels<S>>[1]], O, C>,
): Flow<readonly [S], readonly [SplitAt<S, HalfChannels<S>>[0], ...O], C> => {
  const [c, h, w] = shape;
  const half: Shape3 = [c / 2, h, w];
  return built({ kind: 'chain', steps: [split(shape), parallel(identity(half), rest)] });
};
