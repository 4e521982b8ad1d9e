/**
 * Specs of the neural networks inside couplings and autoregressive layers: plain data, like the
 * bijector specs that hold them, dispatched on `kind`. The implementations (pure functions of params)
 * are in `convnet.ts` and `mlp.ts`; `net.ts` dispatches.
 *
 * - `convNet` reads images [C,H,W] (channels-last tensors [N,H,W,C]);
 * - `mlp` and `made` read vectors [D] (tensors [N,D]).
 *
 * Every net's output layer starts at zero, so the bijector holding it starts as the identity.
 */

/**
 * Glow's coupling network: conv(k0) c_in -> hidden, ReLU, conv(k1) hidden -> hidden, ReLU,
 * conv(k2) hidden -> c_out with the last layer initialised to zero, so the coupling starts as identity.
 */
export interface ConvNetSpec {
  readonly kind: 'convNet';
  readonly hidden: number;
  /** Kernel sizes of the three convolutions; Glow's default is [3, 1, 3]. */
  readonly kernels: readonly [number, number, number];
}

/** The nonlinearity between the dense layers of an `mlp` or `made`. */
export type Activation = 'relu' | 'tanh' | 'elu';
/** Every `Activation`, in a fixed order. */
export const activations: readonly Activation[] = ['relu', 'tanh', 'elu'];

/**
 * A multilayer perceptron on vectors: dense cIn -> hidden[0] -> ... -> hidden[L-1] -> cOut, the
 * activation after every hidden layer, the output layer zero. With `residual`, a hidden layer whose
 * width equals its input's adds its input: h' = h + act(W h + b) (the first layer never does: its
 * input is the raw network input).
 */
export interface MlpSpec {
  readonly kind: 'mlp';
  readonly hidden: readonly number[];
  readonly activation: Activation;
  readonly residual: boolean;
}

/**
 * The order of a MADE's autoregressive inputs: 'natural' (0, 1, ..., D-1), 'random' (a permutation
 * drawn from `seed`), or an explicit permutation of 0..D-1 (order[i] is the input at position i).
 */
export type MadeOrder = 'natural' | 'random' | readonly number[];

/**
 * MADE (Germain et al. 2015): an MLP whose weights are masked so that, for an input order, every
 * output of element d depends only on the inputs before d in the order (and on context inputs, which
 * every unit may see). Degrees: input at position i of the order has degree i+1 (1..D), context inputs
 * degree 0; hidden unit k of every layer has degree k mod max(1, D-1) + min(1, D-1) (nflows' cyclic
 * assignment) without context, and k mod D with context (degree-0 units see the context alone, so
 * the context reaches every output, the first element's too, which nflows' MADE misses); a hidden unit sees a unit below of degree <= its own, an output of element d (degree
 * m_d) sees hidden units of degree < m_d. Output channels come in blocks: channel o belongs to element
 * o mod D (so an affine transformer's [s_raw (D), t (D)] split lines up).
 */
export interface MadeSpec {
  readonly kind: 'made';
  readonly hidden: readonly number[];
  readonly activation: Activation;
  readonly order: MadeOrder;
  /** Seed of the 'random' order (ignored otherwise). */
  readonly seed: number;
}

/** The JSON spec of a conditioner network: a Glow `convNet`, an `mlp` or a masked `made`. */
export type NetSpec = ConvNetSpec | MlpSpec | MadeSpec;

/** Options of `convNet`. */
export interface ConvNetOptions {
  /** Hidden channels h (default 64). */
  readonly hidden?: number;
  /** Kernel sizes of the three convolutions (default [3, 1, 3]). */
  readonly kernels?: readonly [number, number, number];
}

/** Glow's three-convolution coupling network (channels-last, 'same' padding, zero last layer). */
export const convNet = (options: ConvNetOptions = {}): ConvNetSpec => ({
  kind: 'convNet',
  hidden: options.hidden ?? 64,
  kernels: options.kernels ?? [3, 1, 3],
});

/** Options of `mlp`. */
export interface MlpOptions {
  /** Hidden widths (default [64, 64]). */
  readonly hidden?: readonly number[];
  /** Default 'relu'. */
  readonly activation?: Activation;
  /** Residual hidden layers where widths agree (default false). */
  readonly residual?: boolean;
}

/** A multilayer perceptron on vectors, with a zero output layer. */
export const mlp = (options: MlpOptions = {}): MlpSpec => ({
  kind: 'mlp',
  hidden: options.hidden ?? [64, 64],
  activation: options.activation ?? 'relu',
  residual: options.residual ?? false,
});

/** Options of `made`. */
export interface MadeOptions {
  /** Hidden widths (default [64, 64]); a width below D-1 leaves some degrees without units. */
  readonly hidden?: readonly number[];
  /** Default 'relu'. */
  readonly activation?: Activation;
  /** Default 'natural'. */
  readonly order?: MadeOrder;
  /** Seed of the 'random' order (default 0). */
  readonly seed?: number;
}

/** A MADE network (masked MLP) for autoregressive layers, with a zero output layer. */
export const made = (options: MadeOptions = {}): MadeSpec => ({
  kind: 'made',
  hidden: options.hidden ?? [64, 64],
  activation: options.activation ?? 'relu',
  order: options.order ?? 'natural',
  seed: options.seed ?? 0,
});
