/**
 * ActNorm (Glow): per channel, y = (x + bias) * exp(logScale).
 * log|det J| = H * W * sum_c logScale_c.
 * Data-dependent initialisation: bias = -mean, logScale = -log(std) over the first batch, so the
 * output has zero mean and unit variance per channel.
 */
import { built } from '../build.js';
import type { Shape3 } from '../shape.js';
import type { Bijector } from '../spec.js';

export const actnorm = <const S extends Shape3>(shape: S): Bijector<S, S> => built({ kind: 'actnorm', shape });
