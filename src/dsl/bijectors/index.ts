/**
 * The registry of bijector kinds: one line per kind, in the order used in messages. Each module exports
 * its definition (`<kind>Definition`) and its typed constructors; the spec union (src/dsl/spec.ts), the
 * codec's dispatch, the shape rules, domains and every interpreter are derived from this list
 * (src/dsl/registry.ts). Adding a kind is one file here and one line below.
 */
export * from './affine.js';
export * from './actnorm.js';
export * from './inv1x1.js';
export * from './inv1x1-lu.js';
export * from './affine-coupling.js';
export * from './additive-coupling.js';
export * from './conditional-affine.js';
export * from './spline-coupling.js';
export * from './squeeze.js';
export * from './unsqueeze.js';
export * from './permute.js';
export * from './logit.js';
export * from './identity.js';
export * from './split.js';
export * from './concat.js';
export * from './exp.js';
export * from './masked-autoregressive.js';
export * from './softplus.js';
export * from './tanh.js';
export * from './scale-shift.js';
export * from './batch-norm.js';
export * from './reshape.js';
export * from './cnf.js';
export * from './sinh-arcsinh.js';

// Transformers: the elementwise definitions (`<name>Transformer`) that `coupling` and `autoregressive`
// take by name (src/dsl/transformed.ts). A kind's own file may export one too (sinh-arcsinh.ts does).
export { affineTransformer } from '../transformers/affine.js';
export { additiveTransformer } from '../transformers/additive.js';
export { splineTransformer } from '../transformers/spline.js';
