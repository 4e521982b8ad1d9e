/** N(0, I) over each event tensor: no parameters; a draw is its noise. */
import * as E from 'fp-ts/lib/Either.js';
import { standardNormalLogProb } from '../../algebra/normal.js';
import { sizeOfAll, type Shape } from '../../dsl/shape.js';
import { defineDistribution } from './definition.js';
import { decodeShapes, eventShapes } from './fields.js';

/** N(0, I) over each event tensor; no parameters. */
export interface StandardNormalSpec {
  readonly kind: 'standardNormal';
  readonly shapes: readonly Shape[];
}

/** The `standardNormal` kind. */
export const standardNormalDefinition = defineDistribution<StandardNormalSpec>({
  kind: 'standardNormal',
  fields: ['shapes'],
  decode: (json, path) => E.map((shapes: Shape[]) => ({ kind: 'standardNormal' as const, shapes }))(decodeShapes(json['shapes'], `${path}.shapes`)),
  encode: (spec) => ({ shapes: spec.shapes.map((s) => [...s]) }),
  events: (spec, path) => eventShapes(spec.shapes, `${path}.shapes`),
  params: { shapes: () => ({}), init: () => ({}) },
  logProb: (o, spec, _params, xs) => standardNormalLogProb(o, xs, sizeOfAll(spec.shapes)),
  noise: (spec) => spec.shapes.map((shape) => ({ name: 'noise', shape, law: { kind: 'normal' } })),
  fromNoise: (_o, _spec, _params, noise) => noise,
});
