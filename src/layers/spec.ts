/**
 * Specs of the neural networks inside couplings: plain data, like the bijector specs that hold them.
 * The implementations (pure functions of params) are in `convnet.ts`.
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

export type NetSpec = ConvNetSpec;

export interface ConvNetOptions {
  readonly hidden?: number;
  readonly kernels?: readonly [number, number, number];
}

export const convNet = (options: ConvNetOptions = {}): ConvNetSpec => ({
  kind: 'convNet',
  hidden: options.hidden ?? 64,
  kernels: options.kernels ?? [3, 1, 3],
});
