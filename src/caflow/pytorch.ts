/**
 * CAFLOW and Dual-Glow+ as one PyTorch module (docs/caflow.md, design §1-§3): the encoders R and T and the
 * conditional flows G_i written by the generic exporter (src/interpreters/pytorch), and a `Caflow`
 * nn.Module: the model's constants on CaflowModel (py/caflow.py), which holds the joint objective, the
 * conditional log-likelihood, generation from latents, sampling with a temperature and ranking of the k
 * samples per condition. Its state_dict keys are the CAFLOW checkpoint's (`R.…`, `T.…`, `G.<i>.…`,
 * stored as `params.<key>`).
 */
import { signature } from '../dsl/signature.js';
import { pythonLibrary, pythonModule, pythonOps, PythonWriter } from '../interpreters/pytorch/index.js';
import { runtimeFiles } from '../interpreters/pytorch/py/files.js';
import { pyNumber, pyString } from '../interpreters/pytorch/python.js';
import { encodeCondition, encodersLogProb, flowSite, fromLatents, likelihoodTerms, type CaflowEngine } from './maths.js';
import type { CaflowSpec } from './model.js';
import { caflowFiles } from './py/files.js';

const caflowLibrary = pythonLibrary(runtimeFiles, caflowFiles);

const title = (m: CaflowSpec): string => (m.variant === 'caflow' ? 'CAFLOW' : 'Dual-Glow+');

/**
 * CAFLOW's maths (src/caflow/maths.ts) written as Python lines: the algebra's PyTorch engine, and each
 * flow pass one call of the module's flow (`(t3, t4), t5 = self.G[0]([t2], {'D0': t1})`).
 */
const pythonEngine = (m: CaflowSpec, w: PythonWriter): CaflowEngine<string> => ({
  ops: pythonOps(w),
  pass: (flow, dir, ins, ctx) => {
    const sig = signature(flowSite(m, flow).spec);
    const outs = (dir === 'forward' ? sig.outs : sig.ins).map(() => w.fresh());
    const logDet = w.fresh();
    const module = flow.name === 'G' ? `self.G[${flow.index}]` : `self.${flow.name}`;
    const context = Object.entries(ctx).map(([name, v]) => `${pyString(name)}: ${v}`);
    const args = `[${ins.join(', ')}]${context.length > 0 ? `, {${context.join(', ')}}` : ''}`;
    // A tuple target: pyflakes exempts unpacked names that go unused (R's log-det in from_latents).
    w.line(`(${outs.join(', ')}${outs.length === 1 ? ',' : ''}), ${logDet} = ${dir === 'inverse' ? `${module}.inverse` : module}(${args})`);
    return { outs, logDet };
  },
});

/** One method of `Caflow` whose body is written from CAFLOW's maths. */
const method = (m: CaflowSpec, signatureLine: string, doc: string, body: (e: CaflowEngine<string>) => string): string => {
  const w = new PythonWriter();
  const result = body(pythonEngine(m, w));
  const lines = [...w.take(), `return ${result}`];
  return [`    def ${signatureLine}:`, `        """${doc}"""`, ...lines.map((l) => `        ${l}`)].join('\n');
};

/** The latents of G_i as Python expressions: z[i][j]. */
const latentArgs = (m: CaflowSpec): string[][] => m.priors.map((g, i) => signature(g).outs.map((_, j) => `z[${i}][${j}]`));

/** CAFLOW's maths as methods of `Caflow`: the objective's terms, the encoders' objective, generation. */
const caflowMethods = (m: CaflowSpec): string[] => [
  method(m, 'log_likelihood(self, w, y)', `Every term of the objective per sample, in nats (written from src/caflow/maths.ts):
        joint = lam * log p_R(Y) + log p(W | Y), conditional = log|det dT/dW| + sum_i log p_G_i(L_i | ...).`, (e) => {
    const t = likelihoodTerms(e, m, 'w', 'y');
    return `{'joint': ${t.joint}, 'conditional': ${t.conditional}, 'log_p_y': ${t.logpY}, 'log_det_t': ${t.logDetT}, 'priors': [${t.priors.join(', ')}]}`;
  }),
  method(m, 'encoders_log_prob(self, w, y)', 'log p_R(Y) + log p_T(W) per sample: the encoders as unconditional flows (written from src/caflow/maths.ts).', (e) =>
    encodersLogProb(e, m, 'w', 'y'),
  ),
  method(m, 'from_latents(self, z, y)', 'W from latents z[i][j] given Y, coarse component first, and log p(W | Y) per sample (written from src/caflow/maths.ts).', (e) => {
    const out = fromLatents(e, m, latentArgs(m), encodeCondition(e, m, 'y').sqD);
    return `${out.w}, ${out.logp}`;
  }),
];

/** The `Caflow` class: CaflowModel with this model's variant, lambda, latent shapes and flows. */
const caflowClass = (m: CaflowSpec): string => {
  const latentShapes = m.priors.map((g) =>
    signature(g).outs.map((s) => `(${pyNumber(s[1] as number)}, ${pyNumber(s[2] as number)}, ${pyNumber(s[0] as number)})`),
  );
  return `class Caflow(CaflowModel):
    """${title(m)}: the encoders R and T and the conditional flows G_0..G_${m.priors.length - 1} built above."""

    def __init__(self):
        super().__init__(
            variant=${pyString(m.variant)},
            lam=${pyNumber(m.lambda)},
            # Per G_i, the (H, W, C) of each latent it emits (z_i^i .. z_i^{n-1}).
            latent_shapes=[${latentShapes.map((l) => `[${l.join(', ')}]`).join(', ')}],
            R=build_R(),
            T=build_T(),
            G=[${m.priors.map((_, i) => `build_G${i}()`).join(', ')}],
        )

${caflowMethods(m).join('\n\n')}`;
};

/** The Python module of a CAFLOW (or Dual-Glow+) model: its flows, the Caflow class, safetensors I/O. */
export const caflowToPyTorch = (m: CaflowSpec): string =>
  pythonModule({
    docstring: `${title(m)} written by typed-flows (caflowToPyTorch). Needs only torch.

    model = Caflow()
    load_params(model, 'checkpoint.safetensors')           # a typed-flows CAFLOW checkpoint or model file
    terms = model.log_likelihood(w, y)                      # w, y: [N,H,W,C] dequantised pixels (0..256)
    samples, log_lik = model.sample(y, k=8, temperature=0.5) # ranked, best first per condition

model.state_dict() keys are the checkpoint's parameter paths (R.*, T.*, G.<i>.*), so load_params and
save_params move weights between typed-flows and PyTorch unchanged.
`,
    builds: [
      { name: 'build_R', flow: m.encoderY, path: '$.encoderY' },
      { name: 'build_T', flow: m.encoderW, path: '$.encoderW' },
      ...m.priors.map((g, i) => ({ name: `build_G${i}`, flow: g, path: `$.priors[${i}]` })),
    ],
    tail: caflowClass(m),
    library: caflowLibrary,
    reserved: ['Caflow'],
    // train.py imports it.
    offers: ['mid_bin_bits_per_dim'],
  });
