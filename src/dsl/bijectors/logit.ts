/**
 * Logit preprocessing for q-level data (Dinh et al. 2017), after dequantisation x = k + u, u in [0,1):
 *   p = alpha/2 + (1 - alpha) x / q,   y = logit(p) = log p - log(1 - p).
 * log|det J| = sum over elements of [-log q + log(1 - alpha) - log p - log(1 - p)].
 * Inverse: x = q (sigmoid(y) - alpha/2) / (1 - alpha); `quantize` rounds it back to integers.
 * `sigmoid` is the same bijector inverted.
 */
import { built } from '../build.js';
import { invert } from '../combinators.js';
import type { Shape3 } from '../shape.js';
import type { Bijector } from '../spec.js';

export interface LogitOptions {
  /** Keeps p away from 0 and 1 (default 1e-5, as in CAFLOW). */
  readonly alpha?: number;
  /** Number of levels q of the data (default 256 for 8-bit images). */
  readonly levels?: number;
}

export const logit = <const S extends Shape3>(shape: S, options: LogitOptions = {}): Bijector<S, S> =>
  built({ kind: 'logit', shape, alpha: options.alpha ?? 1e-5, levels: options.levels ?? 256 });

export const sigmoid = <const S extends Shape3>(shape: S, options: LogitOptions = {}): Bijector<S, S> =>
  invert(logit(shape, options));
