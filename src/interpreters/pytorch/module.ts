/**
 * `toPyTorch(flow)`: a readable Python module (torch only) that builds the flow as an nn.Module with
 * forward and inverse passes and log-dets, parameter names equal to the checkpoint's keys. A module
 * is its docstring, the imports it uses, the runtime definitions it names (runtime.ts), the classes
 * generated from the kinds' algebras, a build function per flow, and what the caller adds (a model class).
 */
import { formatShape } from '../../dsl/shape.js';
import { signature } from '../../dsl/signature.js';
import type { FlowSpec } from '../../dsl/spec.js';
import { lowerFlow } from './emit.js';
import { GeneratedClasses } from './generated-classes.js';
import { runtimeFor, runtimeLibrary, type PythonLibrary } from './runtime.js';

/** The imports a module may need, each with the name whose use needs it. */
const IMPORTS: ReadonlyArray<readonly [name: string, line: string]> = [
  ['ctypes', 'import ctypes'],
  ['json', 'import json'],
  ['math', 'import math'],
  ['os', 'import os'],
  ['partial', 'from functools import partial'],
  ['torch', 'import torch'],
  ['nn', 'import torch.nn as nn'],
  ['F', 'import torch.nn.functional as F'],
];

/** The import block of `code`: only what it uses (so the module lints clean). */
export const importsFor = (code: string): string => {
  const used = new Set(code.match(/[A-Za-z_]\w*/g) ?? []);
  const lines = IMPORTS.filter(([name]) => used.has(name)).map(([, line]) => line);
  const [std, torch] = [lines.filter((l) => !l.includes('torch')), lines.filter((l) => l.includes('torch'))];
  return [std.join('\n'), torch.join('\n')].filter((b) => b !== '').join('\n\n');
};

/** A flow to build by a function of that name; `path` is the spec path errors name. */
export interface BuildFunction {
  readonly name: string;
  readonly flow: FlowSpec;
  readonly path: string;
}

/** What a module holds besides the runtime and the generated classes. */
export interface ModuleContents {
  /** The module docstring (without quotes). */
  readonly docstring: string;
  readonly builds: readonly BuildFunction[];
  /** Code after the build functions (a model class using them). */
  readonly tail?: string;
  /** Where runtime definitions come from (default: the exporter's .py files). */
  readonly library?: PythonLibrary;
  /** Names the tail defines, which generated classes must not take. */
  readonly reserved?: readonly string[];
  /** Runtime definitions the module offers its reader besides checkpoint input and output (a script imports them). */
  readonly offers?: readonly string[];
}

/** The names every module offers its reader: checkpoint input and output. */
const ALWAYS = 'read_safetensors write_safetensors load_params save_params';

const buildCode = (b: BuildFunction, classes: GeneratedClasses): string => {
  const sig = signature(b.flow);
  const cond = Object.entries(sig.cond);
  const doc = [
    `inputs ${sig.ins.map(formatShape).join(', ')} -> outputs ${sig.outs.map(formatShape).join(', ')}`,
    ...(cond.length > 0 ? [`conditioning: ${cond.map(([k, s]) => `${k} ${formatShape(s)}`).join(', ')}`] : []),
    '(event shapes [C,H,W]; tensors are channels-last [N,H,W,C])',
  ];
  const body = lowerFlow(b.flow, classes, b.path).split('\n').join('\n    ');
  return `def ${b.name}():\n    """${doc.join('\n    ')}"""\n    return ${body}`;
};

/** A Python module: see the file comment. Throws a PyTorchExportError naming the path of a node it cannot write. */
export const pythonModule = (contents: ModuleContents): string => {
  const library = contents.library ?? runtimeLibrary;
  const classes = new GeneratedClasses([...library.keys(), ...(contents.reserved ?? [])]);
  const builds = contents.builds.map((b) => buildCode(b, classes));
  const own = [classes.code(), ...builds, contents.tail ?? ''].filter((c) => c !== '');
  const runtime = runtimeFor(library, [...own, ALWAYS, ...(contents.offers ?? [])]);
  const body = [runtime, ...own].join('\n\n\n');
  return `"""${contents.docstring}"""\n${importsFor(body)}\n\n\n${body}\n`;
};

/** Options of `toPyTorch`. */
export interface ToPyTorchOptions {
  /** Name of the build function (default 'build_flow'). */
  readonly name?: string;
}

/** The Python module of `flow`; throws a PyTorchExportError naming the path of a node it cannot write. */
export const toPyTorch = (flow: FlowSpec, options: ToPyTorchOptions = {}): string => {
  const name = options.name ?? 'build_flow';
  return pythonModule({
    docstring: `A normalizing flow written by typed-flows (toPyTorch). Needs only torch.

    flow = ${name}()
    load_params(flow, 'checkpoint.safetensors')     # a typed-flows checkpoint of this spec
    ys, log_det = flow([x], ctx)                    # x: [N,H,W,C] (channels-last), log|det dy/dx| per sample
    xs, log_det = flow.inverse(ys, ctx)             # log|det dx/dy|

flow.state_dict() keys are the checkpoint's parameter paths, so save_params / load_params (and
load_state_dict) move weights between typed-flows and PyTorch unchanged. Classes named after a kind
(Logit, Exp, ...) are generated from the kind's algebra; the others are typed-flows' Python runtime.
`,
    builds: [{ name, flow, path: '$' }],
  });
};
