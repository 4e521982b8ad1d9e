/** The kernel of every primitive kind: the interpreters dispatch on `spec.kind` through this table. */
import type { PrimitiveSpec } from '../../dsl/spec.js';
import { actnormKernel } from './actnorm.js';
import { additiveCouplingKernel } from './additive-coupling.js';
import { affineCouplingKernel } from './affine-coupling.js';
import { affineKernel } from './affine.js';
import { conditionalAffineKernel } from './conditional-affine.js';
import { identityKernel } from './identity.js';
import { inv1x1LUKernel } from './inv1x1-lu.js';
import { inv1x1Kernel } from './inv1x1.js';
import type { Kernel } from './kernel.js';
import { logitKernel } from './logit.js';
import { permuteKernel } from './permute.js';
import { splineCouplingKernel } from './spline-coupling.js';
import { squeezeKernel, unsqueezeKernel } from './squeeze.js';

export type KernelTable = { readonly [K in PrimitiveSpec['kind']]: Kernel<Extract<PrimitiveSpec, { kind: K }>> };

export const kernels: KernelTable = {
  affine: affineKernel,
  actnorm: actnormKernel,
  inv1x1: inv1x1Kernel,
  inv1x1LU: inv1x1LUKernel,
  affineCoupling: affineCouplingKernel,
  additiveCoupling: additiveCouplingKernel,
  conditionalAffine: conditionalAffineKernel,
  splineCoupling: splineCouplingKernel,
  squeeze: squeezeKernel,
  unsqueeze: unsqueezeKernel,
  permute: permuteKernel,
  logit: logitKernel,
  identity: identityKernel,
};

/** The kernel for a primitive spec (the cast is the one place the table's key/spec link is used). */
export const kernelOf = <S extends PrimitiveSpec>(spec: S): Kernel<S> => kernels[spec.kind] as unknown as Kernel<S>;

export type { Context, Kernel, Pass } from './kernel.js';
