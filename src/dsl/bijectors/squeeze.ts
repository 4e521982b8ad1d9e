/**
 * Squeeze: 2x2 space-to-depth, [C,H,W] -> [4C,H/2,W/2]; unsqueeze is its inverse.
 * Output channel c*4 + 2*dy + dx holds input channel c at offset (dy, dx) of each 2x2 block, the
 * order of PyTorch's pixel_unshuffle, so weights move between the two frameworks unchanged.
 * A permutation of the elements: log|det J| = 0.
 */
import { built } from '../build.js';
import type { ChannelsDivisibleBy4, EvenSpatial, Shape3, Squeezed, Unsqueezed } from '../shape.js';
import type { Bijector } from '../spec.js';

export const squeeze = <const S extends Shape3>(shape: S & EvenSpatial<S>): Bijector<S, Squeezed<S>> =>
  built({ kind: 'squeeze', shape });

export const unsqueeze = <const S extends Shape3>(shape: S & ChannelsDivisibleBy4<S>): Bijector<S, Unsqueezed<S>> =>
  built({ kind: 'unsqueeze', shape });
