/**
 * How couplings and injectors see their inputs: the channel split, the conditioning tensors and the
 * network input [x1, cond...], for events of any rank (channels are the tensor's last axis).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Context as ValueContext } from '../../algebra/ops.js';
import { netRanks } from '../../layers/net.js';
import type { NetSpec } from '../../layers/spec.js';
import { hasOwn } from '../codec-parts.js';
import { ShapeMismatchError, type SpecIssue } from '../errors.js';
import { formatShape, isDim, sameShape, spatialOf, tensorShape, type CondShapes, type Shape } from '../shape.js';
import type { Context } from '../definition.js';

/** Channels of x1, the half a coupling leaves unchanged: the first floor(C/2). */
export const passThroughChannels = (c: number): number => Math.floor(c / 2);

/** The conditioning values a layer declared, in the spec's order (on any engine), with a message naming a missing one. */
export const conditioningValues = <T>(cond: CondShapes, ctx: ValueContext<T>): T[] =>
  Object.entries(cond).map(([name, shape]) => {
    // An own-property lookup: a name such as 'constructor' must not find Object.prototype's.
    const v = hasOwn(ctx, name) ? ctx[name] : undefined;
    if (v === undefined) {
      const given = Object.keys(ctx);
      throw new ShapeMismatchError(`missing conditioning input '${name}' (${formatShape(shape)}); given: ${given.length > 0 ? given.join(', ') : 'none'}`);
    }
    return v;
  });

/** The conditioning tensors a layer declared, in the spec's order, checked against their declared shapes. */
export const conditioningTensors = (cond: CondShapes, ctx: Context, batch: number): tf.Tensor[] =>
  conditioningValues(cond, ctx).map((t, i) => {
    const shape = Object.values(cond)[i] as Shape;
    const name = Object.keys(cond)[i] as string;
    const want = tensorShape(shape, batch);
    if (!sameShape(t.shape, want)) {
      throw new ShapeMismatchError(
        `conditioning '${name}' has shape ${formatShape(t.shape)} but the layer expects ${formatShape(want)} (channels-last for event ${formatShape(shape)})`,
      );
    }
    return t;
  });

/** Channels of the conditioning tensors together. */
export const conditioningChannels = (cond: CondShapes): number => Object.values(cond).reduce((n, s) => n + (s[0] as number), 0);

/** Conditioning shapes must share the flowing event's spatial dimensions (they are concatenated on channels). */
export const checkCond = (cond: CondShapes, shape: Shape, path: string): SpecIssue[] =>
  Object.entries(cond).flatMap(([name, s]) => {
    const at = `${path}.cond.${name}`;
    if (!(Array.isArray(s) && s.length >= 1 && s.every(isDim))) return [{ path: at, message: `expected an event shape [C,...] of positive integers, got ${JSON.stringify(s)}` }];
    if (sameShape(spatialOf(s), spatialOf(shape))) return [];
    const spatial = spatialOf(shape);
    return [{
      path: at,
      message: spatial.length === 0
        ? `conditioning ${formatShape(s)} must be a vector [K] like the flowing event ${formatShape(shape)}`
        : `conditioning ${formatShape(s)} must have the flowing tensor's ${spatial.length === 2 ? 'height and width' : 'spatial size'} ${spatial.join('x')}`,
    }];
  });

/**
 * The network's own fields, and that it can read events of this rank. `role`: a coupling's or
 * injector's net ('dense': convNet or mlp, whose outputs may see every input) or an autoregressive
 * layer's ('autoregressive': a made, whose order must be a permutation of the event's D inputs).
 */
export const checkNet = (net: NetSpec, shape: Shape, path: string, role: 'dense' | 'autoregressive' = 'dense'): SpecIssue[] => {
  const issues: SpecIssue[] = [];
  const at = `${path}.net`;
  if (role === 'dense' && net.kind === 'made')
    return [{ path: at, message: `a made net is autoregressive (its outputs do not see every input): use mlp or convNet here, or made in maskedAutoregressive` }];
  if (role === 'autoregressive' && net.kind !== 'made')
    return [{ path: at, message: `an autoregressive layer needs a made net (masked so that output d sees only inputs before d), got a ${net.kind}` }];
  if (!netRanks(net).includes(shape.length))
    issues.push({ path: at, message: `a ${net.kind} reads events of rank ${netRanks(net).join(' or ')}, but the flowing event is ${formatShape(shape)}` });
  switch (net.kind) {
    case 'convNet':
      if (!isDim(net.hidden)) issues.push({ path: `${at}.hidden`, message: `expected a positive integer, got ${net.hidden}` });
      net.kernels.forEach((k, i) => {
        if (!isDim(k) || k % 2 === 0) issues.push({ path: `${at}.kernels[${i}]`, message: `expected an odd positive kernel size, got ${k}` });
      });
      break;
    case 'mlp':
    case 'made':
      net.hidden.forEach((h, i) => {
        if (!isDim(h)) issues.push({ path: `${at}.hidden[${i}]`, message: `expected a positive integer width, got ${h}` });
      });
      if (net.kind === 'made') {
        const d = shape[0] as number;
        if (Array.isArray(net.order)) {
          const order = net.order as readonly number[];
          const isPermutation = order.length === d && [...order].sort((a, b) => a - b).every((v, i) => v === i);
          if (!isPermutation) issues.push({ path: `${at}.order`, message: `expected a permutation of 0..${d - 1} (the event has ${d} inputs), got ${JSON.stringify(order)}` });
        }
        if (!Number.isInteger(net.seed)) issues.push({ path: `${at}.seed`, message: `expected an integer seed, got ${net.seed}` });
      }
      break;
  }
  return issues;
};
