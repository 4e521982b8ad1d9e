/**
 * Elementwise affine: y = x * exp(logScale) + shift, one (logScale, shift) per element of the event.
 * log|det J| = sum(logScale). Initialised to the identity (logScale = 0, shift = 0).
 */
import { built } from '../build.js';
import type { Shape3 } from '../shape.js';
import type { Bijector } from '../spec.js';

export const affine = <const S extends Shape3>(shape: S): Bijector<S, S> => built({ kind: 'affine', shape });
