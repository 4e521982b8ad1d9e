/**
 * `toPyTorch(flow)`: a readable Python module (torch only) that builds the flow as an nn.Module with
 * forward and inverse passes and log-dets, parameter names equal to the checkpoint's keys.
 */
import type { FlowSpec } from '../../dsl/spec.js';
import { formatShape } from '../../dsl/shape.js';
import { signature } from '../../dsl/signature.js';
import { lowerFlow } from './emit.js';
import { loweringTable } from './lowerings.js';
import { parts, withDependencies, type PartName } from './runtime.js';
import { safetensorsPython } from './safetensors-py.js';

export const pythonImports = `import ctypes
import json
import math
import os
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F`;

/** The runtime code of the given parts (with what they need), in dependency order. */
export const runtimeCode = (names: Iterable<PartName>): string =>
  withDependencies(names)
    .map((n) => parts[n].code)
    .join('\n\n\n');

/** A Python function `name()` returning a freshly built flow. */
export const buildFunction = (name: string, spec: FlowSpec, path: string): { code: string; parts: readonly PartName[] } => {
  const sig = signature(spec);
  const cond = Object.entries(sig.cond);
  const doc = [
    `inputs ${sig.ins.map(formatShape).join(', ')} -> outputs ${sig.outs.map(formatShape).join(', ')}`,
    ...(cond.length > 0 ? [`conditioning: ${cond.map(([k, s]) => `${k} ${formatShape(s)}`).join(', ')}`] : []),
    '(event shapes [C,H,W]; tensors are channels-last [N,H,W,C])',
  ];
  const lowered = lowerFlow(spec, loweringTable, path);
  const body = lowered.expr.split('\n').join('\n    ');
  return { code: `def ${name}():\n    """${doc.join('\n    ')}"""\n    return ${body}`, parts: lowered.parts };
};

export interface ToPyTorchOptions {
  /** Name of the build function (default 'build_flow'). */
  readonly name?: string;
}

/** The Python module of `flow`; throws a PyTorchExportError naming the path of a node it cannot write. */
export const toPyTorch = (flow: FlowSpec, options: ToPyTorchOptions = {}): string => {
  const name = options.name ?? 'build_flow';
  const build = buildFunction(name, flow, '$');
  return `"""A normalizing flow written by typed-flows (toPyTorch). Needs only torch.

    flow = ${name}()
    load_params(flow, 'checkpoint.safetensors')     # a typed-flows checkpoint of this spec
    ys, log_det = flow([x], ctx)                    # x: [N,H,W,C] (channels-last), log|det dy/dx| per sample
    xs, log_det = flow.inverse(ys, ctx)             # log|det dx/dy|

flow.state_dict() keys are the checkpoint's parameter paths, so save_params / load_params (and
load_state_dict) move weights between typed-flows and PyTorch unchanged.
"""
${pythonImports}


${runtimeCode(build.parts)}


${safetensorsPython}


def save_params(module, path, metadata=None):
    """Writes module.state_dict() as params.<key> tensors."""
    write_safetensors(path, {f'params.{k}': v for k, v in module.state_dict().items()}, metadata)


${build.code}
`;
};
