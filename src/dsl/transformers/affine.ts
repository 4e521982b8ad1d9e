/**
 * The affine transformer with CAFLOW's soft clamp: per element, from conditioner outputs (s_raw, t),
 *   s = clamp * (2/pi) * atan(s_raw)   (so |s| < clamp),   y = x * exp(s) + t,
 *   log|dy/dx| = s;   inverse x = (y - t) * exp(-s).
 * Layout 'blocks': the first c channels are s_raw, the last c are t. Zero outputs give the identity.
 */
import type { Ops } from '../../algebra/ops.js';
import { num, strictObject, tag } from '../codec-parts.js';
import { blocksOf, defineTransformer } from '../maths/elementwise.js';

/** exp(2 * 44) = 1.6e38 is below float32's largest value, 3.4e38: a scale, and its square, stay finite. */
export const MAX_CLAMP = 44;

export interface AffineFields {
  /** Bound on |s|; CAFLOW uses 2. */
  readonly clamp: number;
}

/** CAFLOW's soft clamp: s = clamp * (2/pi) * atan(s_raw), so |s| < clamp. */
export const softClamp = <T>(o: Ops<T>, sRaw: T, clamp: number): T => o.mul(o.atan(sRaw), o.scalar((2 * clamp) / Math.PI));

const scaleAndShift = <T>(o: Ops<T>, { clamp }: AffineFields, raw: T, dims: readonly number[]): [T, T] => {
  const [sRaw, t] = blocksOf(o, raw, dims, 2) as [T, T];
  return [softClamp(o, sRaw, clamp), t];
};

/** The soft-clamped affine transformer (`{ kind: 'affine', clamp }`): 2 conditioner values per element, s_raw and t in blocks. */
export const affineTransformer = defineTransformer({
  kind: 'affine',
  codec: strictObject("an 'affine' transformer", { kind: tag('affine'), clamp: num }),
  valuesPerElement: () => 2,
  layout: 'blocks',
  forward: (o, fields, x, raw, dims) => {
    const [s, t] = scaleAndShift(o, fields, raw, dims);
    return { out: o.add(o.mul(x, o.exp(s)), t), logDet: o.sumEvent(s) };
  },
  inverse: (o, fields, y, raw, dims) => {
    const [s, t] = scaleAndShift(o, fields, raw, dims);
    return { out: o.mul(o.sub(y, t), o.exp(o.neg(s))), logDet: o.neg(o.sumEvent(s)) };
  },
  checks: (fields, at) =>
    !(fields.clamp > 0)
      ? [{ path: `${at}.clamp`, message: `expected a positive clamp, got ${fields.clamp}` }]
      : fields.clamp > MAX_CLAMP
        ? [{ path: `${at}.clamp`, message: `a clamp of ${fields.clamp} overflows float32: scales up to exp(clamp) and their squares (in gradients) must stay finite, so clamp <= ${MAX_CLAMP}` }]
        : [],
});
