"""PyTorch side of the flow-matching benchmark (bench/flow-matching.ts runs this in its own process).

Usage: /usr/bin/python3 bench/pytorch/flow_matching.py '<json config>'
(or '{"check": {"module", "params", "x", "t"}}': the field at those points, for the test).
The config names the module typed-flows exported (distributionToPyTorch of the `cnf` preset, wrapped in
`standardized` as `fit` wraps it), its parameters (safetensors), a JSON file of the data rows, the batch,
the Adam settings and a check batch of (x, t, v) from typed-flows' own field. Prints one line of JSON.

Timed on the exported module, the same work as typed-flows' side:
- one flow-matching training step of `batch` rows: standardise with the module's buffers, z ~ N(0, I),
  t ~ U(0, 1) per row, x_t = (1 - t) x0 + t z, loss = mean |v(x_t, t) - (z - x0)|^2 (the convention of
  src/distributions/flow-matching.ts: data at t = 0, noise at t = 1), backward, global-norm clipping,
  torch.optim.Adam;
- one sampling pass: dist.sample_and_log_prob(n) under no_grad (RK4 with the preset's steps, the
  log-density integrated alongside, as typed-flows' sampleAndLogProb does).

The exported Cnf has no method for its vector field alone: the field is inlined, step by step, into the
unrolled solver of its _forward/_inverse. So `field` below computes it from the module's own parameters
and buffers (dense*.kernel/time/bias, the frequencies in const0), written as the exported code writes it
(tanh MLP on x and [sin(w t), cos(w t)]); it is checked against typed-flows' field on the given batch and
the largest difference is reported (field_max_abs_error).
"""
import importlib.util
import json
import sys

import torch

from timing import timed


def load_module(path):
    spec = importlib.util.spec_from_file_location('exported_cnf', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def field(cnf, x, t):
    """v(x, t) of the exported Cnf: x [N, D], t [N, 1]."""
    wt = t * cnf.const0
    h = x @ cnf.dense0.kernel + torch.cat([torch.sin(wt), torch.cos(wt)], -1) @ cnf.dense0.time + cnf.dense0.bias
    h = torch.tanh(h)
    layer = 1
    while hasattr(cnf, f'dense{layer + 1}'):
        dense = getattr(cnf, f'dense{layer}')
        h = torch.tanh(h @ dense.kernel + dense.bias)
        layer += 1
    last = getattr(cnf, f'dense{layer}')
    return h @ last.kernel + last.bias


def field_at_points(cfg):
    """The field at given points: {"module", "params", "x", "t"} -> v as JSON (test/project/bench-flow-matching.test.ts)."""
    mod = load_module(cfg['module'])
    dist = mod.Distribution()
    mod.load_params(dist, cfg['params'])
    with torch.no_grad():
        print(json.dumps(field(dist.base.flow, torch.tensor(cfg['x']), torch.tensor(cfg['t'])).tolist()))


def main():
    cfg = json.loads(sys.argv[1])
    if 'check' in cfg:
        return field_at_points(cfg['check'])
    threads = cfg['threads']
    torch.set_num_threads(threads)
    torch.manual_seed(cfg['seed'])
    mod = load_module(cfg['module'])
    dist = mod.Distribution()
    mod.load_params(dist, cfg['params'])
    cnf = dist.base.flow
    events = getattr(dist.events, '0')
    with open(cfg['data']) as f:
        data = json.load(f)
    rows = torch.tensor(data['rows'], dtype=torch.float32)
    check = data['check']
    with torch.no_grad():
        v = field(cnf, torch.tensor(check['x']), torch.tensor(check['t']))
        field_error = (v - torch.tensor(check['v'])).abs().max().item()

    params = list(cnf.parameters())
    opt = torch.optim.Adam(params, lr=cfg['lr'])
    batch, clip = cfg['batch'], cfg['clip_norm']
    g = torch.Generator().manual_seed(cfg['seed'])

    def train_step():
        idx = torch.randint(0, rows.shape[0], (batch,), generator=g)
        x0 = (rows[idx] - events.location) / events.scale
        z = torch.randn(x0.shape)
        t = torch.rand(batch, 1)
        xt = (1 - t) * x0 + t * z
        opt.zero_grad(set_to_none=True)
        loss = torch.mean(torch.square(field(cnf, xt, t) - (z - x0)))
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, clip)
        if torch.isfinite(loss) and torch.isfinite(norm):
            opt.step()
        return loss.item()

    def sample_pass():
        with torch.no_grad():
            xs, lp = dist.sample_and_log_prob(cfg['samples'])
            return lp.sum().item()

    figures = {
        'train_step': timed(train_step, cfg['warmup'], cfg['reps']),
        'sample': timed(sample_pass, cfg['warmup'], cfg['sample_reps']),
    }
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'field_max_abs_error': field_error,
                      'params': sum(p.numel() for p in params), 'figures': figures}))


if __name__ == '__main__':
    main()
