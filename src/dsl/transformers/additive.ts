/**
 * The additive transformer (NICE): per element, from the conditioner's output t, y = x + t;
 * log|dy/dx| = 0 (volume preserving); inverse x = y - t. A zero output gives the identity.
 */
import { zeroLogDet } from '../../algebra/ops.js';
import { strictObject, tag } from '../codec-parts.js';
import { defineTransformer } from '../maths/elementwise.js';

/** The additive transformer (`{ kind: 'additive' }`): 1 conditioner value per element, the shift t. */
export const additiveTransformer = defineTransformer({
  kind: 'additive',
  codec: strictObject("an 'additive' transformer", { kind: tag('additive') }),
  valuesPerElement: () => 1,
  layout: 'blocks',
  forward: (o, _fields, x, t) => ({ out: o.add(x, t), logDet: zeroLogDet(o, x) }),
  inverse: (o, _fields, y, t) => ({ out: o.sub(y, t), logDet: zeroLogDet(o, y) }),
  checks: () => [],
});
