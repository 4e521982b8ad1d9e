/**
 * Invertible 1x1 convolution (Glow): y = W x at every pixel, W a C x C matrix initialised as a random
 * orthogonal matrix.
 * log|det J| = H * W * log|det W|; the inverse applies W^-1.
 *
 * `inv1x1LU` parametrises W = P L (U + diag(sign * exp(logS))) with P a fixed permutation, L unit lower
 * triangular and U strictly upper triangular: log|det J| = H * W * sum(logS), no determinant needed.
 */
import { built } from '../build.js';
import type { Shape3 } from '../shape.js';
import type { Bijector } from '../spec.js';

export const inv1x1 = <const S extends Shape3>(shape: S): Bijector<S, S> => built({ kind: 'inv1x1', shape });

export const inv1x1LU = <const S extends Shape3>(shape: S): Bijector<S, S> => built({ kind: 'inv1x1LU', shape });
