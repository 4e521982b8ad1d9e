/**
 * CAFLOW and Dual-Glow+ as one PyTorch module (docs/caflow.md, design §1-§3): the encoders R and T and the
 * conditional flows G_i written by the generic exporter (src/interpreters/pytorch), and a `Caflow`
 * nn.Module: the model's constants on CaflowModel (py/caflow.py), which holds the joint objective, the
 * conditional log-likelihood, generation from latents, sampling with a temperature and ranking of the k
 * samples per condition. Its state_dict keys are the CAFLOW checkpoint's (`R.…`, `T.…`, `G.<i>.…`,
 * stored as `params.<key>`).
 */
import { signature } from '../dsl/signature.js';
import { pythonLibrary, pythonModule } from '../interpreters/pytorch/index.js';
import { runtimeFiles } from '../interpreters/pytorch/py/files.js';
import { pyNumber, pyString } from '../interpreters/pytorch/python.js';
import type { CaflowSpec } from './model.js';
import { caflowFiles } from './py/files.js';

const caflowLibrary = pythonLibrary(runtimeFiles, caflowFiles);

const title = (m: CaflowSpec): string => (m.variant === 'caflow' ? 'CAFLOW' : 'Dual-Glow+');

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
        )`;
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
