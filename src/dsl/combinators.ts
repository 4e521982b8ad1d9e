/**
 * Combinators: flows built from flows. A chain whose shapes do not line up is a compile error when
 * the shapes are literal, and a SpecError naming the step when they are only known at run time.
 */
import { built } from './build.js';
import { identity } from './bijectors/identity.js';
import { split } from './bijectors/split.js';
import type { CondShapes, HalfChannels, NoCond, Shape, Shapes, SplitAt } from './shape.js';
import type { AnyFlow, CondOf, Flow, InOf, OutOf } from './spec.js';

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

/** The type of `chain(...fs)`: the first step's inputs, the last step's outputs, every step's conditioning merged. */
export type ChainFlow<Fs extends readonly AnyFlow[]> = Flow<InOf<Fs[0]>, OutOf<Last<Fs>>, MergeCond<Fs>>;

/**
 * f_n ∘ ... ∘ f_1: each step takes the previous step's outputs; log|det J| is the sum of the steps'.
 * Up to 10 steps each step's shapes are inferred separately (so generic steps such as
 * `<S extends Shape>(s: S) => chain(actnorm(s), inv1x1(s))` type-check); a longer chain is checked
 * step by step by `CheckChain`. A mismatch is a compile error at the offending argument.
 */
export function chain<S0 extends Shapes, S1 extends Shapes, C1 extends CondShapes>(f1: Flow<S0, S1, C1>): Flow<S0, S1, Simplify<C1>>;
export function chain<S0 extends Shapes, S1 extends Shapes, S2 extends Shapes, C1 extends CondShapes, C2 extends CondShapes>(f1: Flow<S0, S1, C1>, f2: Flow<S1, S2, C2>): Flow<S0, S2, Simplify<C1 & C2>>;
export function chain<S0 extends Shapes, S1 extends Shapes, S2 extends Shapes, S3 extends Shapes, C1 extends CondShapes, C2 extends CondShapes, C3 extends CondShapes>(f1: Flow<S0, S1, C1>, f2: Flow<S1, S2, C2>, f3: Flow<S2, S3, C3>): Flow<S0, S3, Simplify<C1 & C2 & C3>>;
export function chain<S0 extends Shapes, S1 extends Shapes, S2 extends Shapes, S3 extends Shapes, S4 extends Shapes, C1 extends CondShapes, C2 extends CondShapes, C3 extends CondShapes, C4 extends CondShapes>(f1: Flow<S0, S1, C1>, f2: Flow<S1, S2, C2>, f3: Flow<S2, S3, C3>, f4: Flow<S3, S4, C4>): Flow<S0, S4, Simplify<C1 & C2 & C3 & C4>>;
export function chain<S0 extends Shapes, S1 extends Shapes, S2 extends Shapes, S3 extends Shapes, S4 extends Shapes, S5 extends Shapes, C1 extends CondShapes, C2 extends CondShapes, C3 extends CondShapes, C4 extends CondShapes, C5 extends CondShapes>(f1: Flow<S0, S1, C1>, f2: Flow<S1, S2, C2>, f3: Flow<S2, S3, C3>, f4: Flow<S3, S4, C4>, f5: Flow<S4, S5, C5>): Flow<S0, S5, Simplify<C1 & C2 & C3 & C4 & C5>>;
export function chain<S0 extends Shapes, S1 extends Shapes, S2 extends Shapes, S3 extends Shapes, S4 extends Shapes, S5 extends Shapes, S6 extends Shapes, C1 extends CondShapes, C2 extends CondShapes, C3 extends CondShapes, C4 extends CondShapes, C5 extends CondShapes, C6 extends CondShapes>(f1: Flow<S0, S1, C1>, f2: Flow<S1, S2, C2>, f3: Flow<S2, S3, C3>, f4: Flow<S3, S4, C4>, f5: Flow<S4, S5, C5>, f6: Flow<S5, S6, C6>): Flow<S0, S6, Simplify<C1 & C2 & C3 & C4 & C5 & C6>>;
export function chain<S0 extends Shapes, S1 extends Shapes, S2 extends Shapes, S3 extends Shapes, S4 extends Shapes, S5 extends Shapes, S6 extends Shapes, S7 extends Shapes, C1 extends CondShapes, C2 extends CondShapes, C3 extends CondShapes, C4 extends CondShapes, C5 extends CondShapes, C6 extends CondShapes, C7 extends CondShapes>(f1: Flow<S0, S1, C1>, f2: Flow<S1, S2, C2>, f3: Flow<S2, S3, C3>, f4: Flow<S3, S4, C4>, f5: Flow<S4, S5, C5>, f6: Flow<S5, S6, C6>, f7: Flow<S6, S7, C7>): Flow<S0, S7, Simplify<C1 & C2 & C3 & C4 & C5 & C6 & C7>>;
export function chain<S0 extends Shapes, S1 extends Shapes, S2 extends Shapes, S3 extends Shapes, S4 extends Shapes, S5 extends Shapes, S6 extends Shapes, S7 extends Shapes, S8 extends Shapes, C1 extends CondShapes, C2 extends CondShapes, C3 extends CondShapes, C4 extends CondShapes, C5 extends CondShapes, C6 extends CondShapes, C7 extends CondShapes, C8 extends CondShapes>(f1: Flow<S0, S1, C1>, f2: Flow<S1, S2, C2>, f3: Flow<S2, S3, C3>, f4: Flow<S3, S4, C4>, f5: Flow<S4, S5, C5>, f6: Flow<S5, S6, C6>, f7: Flow<S6, S7, C7>, f8: Flow<S7, S8, C8>): Flow<S0, S8, Simplify<C1 & C2 & C3 & C4 & C5 & C6 & C7 & C8>>;
export function chain<S0 extends Shapes, S1 extends Shapes, S2 extends Shapes, S3 extends Shapes, S4 extends Shapes, S5 extends Shapes, S6 extends Shapes, S7 extends Shapes, S8 extends Shapes, S9 extends Shapes, C1 extends CondShapes, C2 extends CondShapes, C3 extends CondShapes, C4 extends CondShapes, C5 extends CondShapes, C6 extends CondShapes, C7 extends CondShapes, C8 extends CondShapes, C9 extends CondShapes>(f1: Flow<S0, S1, C1>, f2: Flow<S1, S2, C2>, f3: Flow<S2, S3, C3>, f4: Flow<S3, S4, C4>, f5: Flow<S4, S5, C5>, f6: Flow<S5, S6, C6>, f7: Flow<S6, S7, C7>, f8: Flow<S7, S8, C8>, f9: Flow<S8, S9, C9>): Flow<S0, S9, Simplify<C1 & C2 & C3 & C4 & C5 & C6 & C7 & C8 & C9>>;
export function chain<S0 extends Shapes, S1 extends Shapes, S2 extends Shapes, S3 extends Shapes, S4 extends Shapes, S5 extends Shapes, S6 extends Shapes, S7 extends Shapes, S8 extends Shapes, S9 extends Shapes, S10 extends Shapes, C1 extends CondShapes, C2 extends CondShapes, C3 extends CondShapes, C4 extends CondShapes, C5 extends CondShapes, C6 extends CondShapes, C7 extends CondShapes, C8 extends CondShapes, C9 extends CondShapes, C10 extends CondShapes>(f1: Flow<S0, S1, C1>, f2: Flow<S1, S2, C2>, f3: Flow<S2, S3, C3>, f4: Flow<S3, S4, C4>, f5: Flow<S4, S5, C5>, f6: Flow<S5, S6, C6>, f7: Flow<S6, S7, C7>, f8: Flow<S7, S8, C8>, f9: Flow<S8, S9, C9>, f10: Flow<S9, S10, C10>): Flow<S0, S10, Simplify<C1 & C2 & C3 & C4 & C5 & C6 & C7 & C8 & C9 & C10>>;
export function chain<const Fs extends readonly [AnyFlow, ...AnyFlow[]]>(...steps: Fs & CheckChain<Fs>): ChainFlow<Fs>;
export function chain(...steps: readonly AnyFlow[]): AnyFlow {
  return built({ kind: 'chain', steps: [...steps] });
}

/** A chain of steps assembled at run time (e.g. in a loop): shapes are checked when it is built. */
export const chainOf = (steps: readonly AnyFlow[]): AnyFlow => built({ kind: 'chain', steps: [...steps] });

/** `n` copies of a flow that maps its shapes to themselves, each copy with its own parameters. */
export const repeat = <const I extends Shapes, C extends CondShapes>(body: Flow<I, I, C>, n: number): Flow<I, I, C> =>
  built({ kind: 'repeat', n, body });

/** The inverse flow: forward and inverse swap, and so do the log-dets. */
export const invert = <I extends Shapes, O extends Shapes, C extends CondShapes>(body: Flow<I, O, C>): Flow<O, I, C> =>
  built({ kind: 'invert', body });

type FlattenIns<Fs extends readonly unknown[]> = Fs extends readonly [infer F, ...infer Rest] ? readonly [...InOf<F>, ...FlattenIns<Rest>] : readonly [];
type FlattenOuts<Fs extends readonly unknown[]> = Fs extends readonly [infer F, ...infer Rest] ? readonly [...OutOf<F>, ...FlattenOuts<Rest>] : readonly [];

/** The type of `parallel(...branches)`: the branches' inputs and outputs concatenated in order, their conditioning merged. */
export type ParallelFlow<Fs extends readonly AnyFlow[]> = Flow<FlattenIns<Fs>, FlattenOuts<Fs>, MergeCond<Fs>>;

/** Branches side by side: inputs are dealt to the branches in order and their outputs concatenated. */
export const parallel = <const Fs extends readonly [AnyFlow, ...AnyFlow[]]>(...branches: Fs): ParallelFlow<Fs> =>
  built({ kind: 'parallel', branches: [...branches] });

/**
 * Multiscale factor-out: split the channels in half, let the first half leave as a latent and run
 * `rest` on the second half. [S] -> [first half, ...outputs of rest].
 */
export const factorOut = <const S extends Shape, O extends Shapes, C extends CondShapes = NoCond>(
  shape: S,
  rest: Flow<readonly [SplitAt<S, HalfChannels<S>>[1]], O, C>,
): Flow<readonly [S], readonly [SplitAt<S, HalfChannels<S>>[0], ...O], C> => {
  const [c = 0, ...spatial] = shape;
  const half: Shape = [c / 2, ...spatial];
  return built({ kind: 'chain', steps: [split(shape), parallel(identity(half), rest)] });
};
