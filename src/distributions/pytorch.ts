/**
 * `distributionToPyTorch(dist)`: a fitted distribution as a readable Python module (torch only), from
 * the same definitions and the same fold as the tfjs and ONNX passes (./fold.ts): the passes run on
 * the PyTorch engine of the op algebra (src/interpreters/pytorch/ops.ts), which writes them as the
 * methods of a `Distribution` nn.Module, and each flow is built by the flow exporter (`build_flow`).
 *
 *   dist = Distribution()
 *   load_params(dist, 'model.safetensors')      # the model file `typed-flows fit` writes
 *   log_p = dist.log_prob(x, context=None)      # x [N, ...] channels-last (a list for several events)
 *   x = dist.sample(n, context=None)            # n draws (torch's generator: torch.manual_seed)
 *
 * state_dict() keys are the model file's parameter paths (flow.0.logScale, base.0.mean, events.0.scale),
 * a standardized distribution's location and scale buffers. The noise of a draw is drawn in Python
 * from the laws the base's definition states (normal, categorical, gamma), as the tfjs engine draws it.
 */
import type { ValueNode } from '../algebra/ops.js';
import type { ShapeTree } from '../dsl/params.js';
import { formatShape, tensorShape } from '../dsl/shape.js';
import { signature } from '../dsl/signature.js';
import { parameterTree } from '../interpreters/pytorch/generated-classes.js';
import { pythonModule, type BuildFunction } from '../interpreters/pytorch/module.js';
import { pythonOps, PythonWriter } from '../interpreters/pytorch/ops.js';
import { pyNumber, pyString } from '../interpreters/pytorch/python.js';
import { drawOn, foldDistribution, logProbOn, noiseOf, noiseSourceOn, standardizerShapes, type DistributionAt, type DistributionEngine } from './fold.js';
import { distributionSignature, type DistributionSpec } from './spec.js';

/** The Python expression of the module at a params path: self, self.base, self.base.flow. */
const moduleAt = (paramPath: string): string => (paramPath === '' ? 'self' : `self.${paramPath}`);

/** A parameter tree's access expressions (no __init__ lines). */
const accessTree = (shapes: ShapeTree, module: string): ValueNode<string> => parameterTree(shapes, module, new Set(), [], false);

/** Each flow of the distribution with the name of its build function (build_flow, or build_flow0, build_flow1, ...). */
const buildsOf = (dist: DistributionSpec): ReadonlyMap<string, BuildFunction> => {
  const flows = foldDistribution<Array<{ at: DistributionAt; flow: BuildFunction['flow'] }>>(dist, {
    base: () => [],
    transformed: (spec, base, at) => [...base, { at, flow: spec.flow }],
    standardized: (_spec, base) => base,
  });
  return new Map(flows.map(({ at, flow }, i) => [at.paramPath, { name: flows.length === 1 ? 'build_flow' : `build_flow${i}`, flow, path: `${at.path}.flow` }]));
};

/** The PyTorch engine of the passes: values are Python expressions, params the module's attributes, flows its submodules. */
const pythonEngine = (w: PythonWriter): DistributionEngine<string, string> => ({
  ops: pythonOps(w),
  child: (module, key) => `${module}.${key}`,
  values: (module, shapes) => accessTree(shapes, module),
  flow: (flow, module, dir, ins) => {
    const sig = signature(flow);
    const [result, logDet] = [w.fresh(), w.fresh()];
    w.line(`${result}, ${logDet} = ${module}${dir === 'inverse' ? '.inverse' : ''}([${ins.join(', ')}], ctx)`);
    const outs = (dir === 'forward' ? sig.outs : sig.ins).map(() => w.fresh());
    w.line(`${outs.join(', ')}, = ${result}`);
    return { outs, logDet };
  },
});

/** The __init__ lines: submodules, parameters (buffers for the frozen standardizer) and flows, by the fold. */
const initLines = (dist: DistributionSpec, builds: ReadonlyMap<string, BuildFunction>): string[] =>
  foldDistribution<string[]>(dist, {
    base: (spec, definition, at) => {
      const init: string[] = [];
      parameterTree(definition.params.shapes(spec), moduleAt(at.paramPath), new Set(), init, false);
      return init;
    },
    transformed: (_spec, base, at) => {
      const m = moduleAt(at.paramPath);
      return [`${m}.add_module('base', nn.Module())`, ...base, `${m}.add_module('flow', ${builds.get(at.paramPath)?.name ?? 'build_flow'}())`];
    },
    standardized: (spec, base, at) => {
      const m = moduleAt(at.paramPath);
      const init: string[] = [`${m}.add_module('events', nn.Module())`];
      parameterTree(standardizerShapes(spec), `${m}.events`, new Set(), init, true);
      return [...init, `${m}.add_module('base', nn.Module())`, ...base];
    },
  });

const indent = (lines: readonly string[], by = '    '): string[] => lines.map((l) => (l === '' ? '' : `${by}${l}`));
const unpack = (names: readonly string[]): string => `${names.join(', ')},`;

/** The Python module of a fitted distribution (see the file comment); throws a PyTorchExportError naming a flow node it cannot write. */
export const distributionToPyTorch = (dist: DistributionSpec): string => {
  const sig = distributionSignature(dist);
  const builds = buildsOf(dist);
  const w = new PythonWriter();
  const engine = pythonEngine(w);
  const xs = sig.event.map((_, i) => `x${i}`);
  const ctx = Object.fromEntries(Object.keys(sig.cond).map((k) => [k, `ctx[${pyString(k)}]`]));

  const logp = logProbOn(engine, dist)('self', xs, ctx);
  const logProbBody = ['ctx = context or {}', `${unpack(xs)} = x if isinstance(x, (list, tuple)) else [x]`, ...w.take(), `return ${logp}`];

  const noise = noiseOf(dist);
  const eps = noise.map((_, i) => `e${i}`);
  const draws = drawOn(engine, dist)('self', eps, ctx);
  const drawBody = ['ctx = context or {}', `${unpack(eps)} = noise`, ...w.take(), `return [${draws.xs.join(', ')}], ${draws.logProb}`];

  const source = noiseSourceOn(engine, dist, 'self');
  const o = engine.ops;
  const laws = source.noise.map(({ shape, law }) => {
    const dims = tensorShape(shape, 1).slice(1).map(pyNumber).join(', ');
    switch (law.kind) {
      case 'normal':
        return `torch.randn(n, ${dims})`;
      case 'categorical':
        return `F.one_hot(torch.multinomial(torch.softmax(${law.logits(o, source.spec, source.values)}, -1), n, replacement=True), ${pyNumber(shape[0] as number)}).to(torch.float32)`;
      case 'gamma':
        return `torch.distributions.Gamma(${law.concentration(o, source.spec, source.values)}, ${law.rate(o, source.spec, source.values)}).sample((n,))`;
    }
  });
  const noiseBody = [...w.take(), `return [${laws.join(', ')}]`];

  const constants = w.constants().map((c) => `self.register_buffer(${pyString(c.name)}, ${c.init}, persistent=False)`);
  const events = sig.event.map(formatShape).join(', ');
  const cond = Object.entries(sig.cond).map(([k, s]) => `${k} ${formatShape(s)}`);
  const noiseDoc = noise.map((n, i) => `e${i} (${n.name}) ${formatShape(n.shape)}: ${n.law.kind === 'normal' ? 'standard normal' : n.law.kind === 'categorical' ? 'one-hot rows of a categorical draw' : 'gamma draws per column'}`);
  const method = (head: string, doc: string, body: readonly string[]): string[] => [head, ...indent([`"""${doc}"""`, ...body]), ''];
  const tail = [
    'class Distribution(nn.Module):',
    ...indent([
      `"""A distribution fitted by typed-flows: events ${events}${cond.length > 0 ? `, conditioning ${cond.join(', ')}` : ''} (event shapes [C,H,W]; tensors are channels-last).`,
      'state_dict() keys are the model file\'s parameter paths: load_params(dist, \'model.safetensors\')."""',
      '',
      ...method('def __init__(self):', 'Parameters at zero: load a model file to fit them.', ['super().__init__()', ...initLines(dist, builds), ...constants]),
      ...method('def log_prob(self, x, context=None):', 'log p(x) per row [N] in nats; x a tensor [N, ...] (a list of them for several events), context a dict of conditioning tensors.', logProbBody),
      ...method('def sample_from_noise(self, noise, context=None):', `Draws from given noise, and their log p: noise = [${noiseDoc.join('; ')}] (rows of each: the draws).`, drawBody),
      ...method('def noise(self, n):', "The noise of n draws, from torch's generator (seed it with torch.manual_seed).", noiseBody),
      ...method('def sample_and_log_prob(self, n, context=None):', 'n draws (a list, one tensor per event) and their log p [n].', ['return self.sample_from_noise(self.noise(n), context)']),
      ...method('def sample(self, n, context=None):', 'n draws [n, ...] (a list for several events).', ['xs, _ = self.sample_and_log_prob(n, context)', 'return xs[0] if len(xs) == 1 else xs']),
    ]),
  ];
  return pythonModule({
    docstring: `A distribution fitted by typed-flows, as PyTorch code (distributionToPyTorch). Needs only torch.

    dist = Distribution()
    load_params(dist, 'model.safetensors')   # the model file of typed-flows fit
    log_p = dist.log_prob(x)                 # x: [N, ...] channels-last; log p per row, in nats
    x = dist.sample(1000)                    # draws (torch.manual_seed seeds them)

The passes are written from the distribution's definitions (typed-flows src/distributions/kinds) and
each flow from its kinds' algebra; the same definitions give the tfjs and ONNX passes.
`,
    builds: [...builds.values()],
    tail: tail.join('\n').replace(/\n+$/, ''),
    reserved: ['Distribution'],
  });
};
