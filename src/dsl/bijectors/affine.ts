/**
 * Elementwise affine: y = x * exp(logScale) + shift, one (logScale, shift) pair per element of the
 * event, any rank. log|det J| = sum(logScale). Inverse: x = (y - shift) * exp(-logScale).
 * Initialised to the identity (logScale = 0, shift = 0). Parameters are channels-last ([H,W,C] for
 * an image event [C,H,W]), like the tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { algebraic, unaryAlgebra } from '../../algebra/define.js';
import { param } from '../../algebra/ops.js';
import { nodeCodec, shapeCodec } from '../codec-parts.js';
import { primitive } from '../primitive.js';
import { defineBijector, ontoReals, shapePreserving } from '../definition.js';
import { tensorShape, type Shape } from '../shape.js';
import type { Bijector } from '../spec.js';
import type * as t from 'io-ts';

const codec = nodeCodec('affine', { shape: shapeCodec() });
/** The JSON spec of an `affine` node: its event shape. */
export type AffineSpec = t.TypeOf<typeof codec>;

/** Elementwise affine on events of `shape`: a learnt log-scale and shift per element, initialised to the identity. */
export const affine = <const S extends Shape>(shape: S): Bijector<S, S> => primitive(affineDefinition, { kind: 'affine', shape });

const eventShape = ({ shape }: AffineSpec): number[] => tensorShape(shape, 1).slice(1);

/** The `affine` kind: parameters logScale and shift (channels-last, the event's size each) and its maths. */
export const affineDefinition = defineBijector<AffineSpec>({
  kind: 'affine',
  codec,
  ranks: 'any',
  signature: shapePreserving(),
  domain: ontoReals,
  params: {
    shapes: (spec) => ({ logScale: eventShape(spec), shift: eventShape(spec) }),
    init: (spec) => ({ logScale: tf.zeros(eventShape(spec)), shift: tf.zeros(eventShape(spec)) }),
    frozen: [],
    mixing: [],
  },
  ...algebraic<AffineSpec>({
    forward: unaryAlgebra((o, _spec, p, x) => {
      const logScale = param(o, p, 'logScale');
      return { out: o.add(o.mul(x, o.exp(logScale)), param(o, p, 'shift')), logDet: o.perSample(x, o.sumAll(logScale)) };
    }),
    inverse: unaryAlgebra((o, _spec, p, y) => {
      const logScale = param(o, p, 'logScale');
      return { out: o.mul(o.sub(y, param(o, p, 'shift')), o.exp(o.neg(logScale))), logDet: o.neg(o.perSample(y, o.sumAll(logScale))) };
    }),
  }),
  inverseCost: 'analytic',
});
