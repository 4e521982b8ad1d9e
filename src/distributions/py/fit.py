"""Fits an exported typed-flows distribution by maximum likelihood: the loop of typed-flows' fit
(src/distributions/fit.ts), step for step, on PyTorch. `typed-flows fit --engine pytorch` writes this
file with the inputs into a cache folder and runs it:

    python3 fit.py --plan plan.json --device cpu

plan.json names model.py's folder (the Distribution module), the initial parameters (a typed-flows
model file, already initialised by typed-flows, data-dependent init included), the rows (rows.safetensors:
'train' and 'validation', split as typed-flows split them), each step's minibatch (row indices into the
training rows, decided by typed-flows: the same minibatches as --engine tfjs) and learning rate, the
trainable parameter paths, clipNorm, evalEvery, patience, minDelta and maxConsecutiveSkips.

Each step: loss = mean NLL of the minibatch; the global gradient norm of the trainable parameters is
clipped to clipNorm (scale clipNorm / max(norm, clipNorm)); a step whose loss or norm is not finite
changes nothing (maxConsecutiveSkips of them in a row stop the run: exit 4); Adam (0.9, 0.999, eps 1e-8,
bias-corrected) at the plan's rate of that Adam step. Every evalEvery steps (and at step 0 and the last
step) the validation NLL is computed; the parameters with the best one (an improvement of more than
minDelta) are kept, and the run stops after `patience` evaluations without one. Writes the best
parameters (the last ones without validation rows) to --output as a typed-flows model file, the
per-step losses and the validations to <output>.history.json, and prints
one line 'typed-flows-event {json}' per evaluation and at the start and end.

Regularisation, as typed-flows' fit (src/distributions/fit.ts, src/training/average.ts,
src/distributions/training-noise.ts): with 'noise' > 0 each minibatch gets fresh N(0, noise^2 s^2)
noise, s each element's standard deviation over the training rows (drawn by torch from 'seed', so
not the same draws as tfjs); with 'averaging' = d > 0 a running average of the trainable parameters,
avg <- d' avg + (1 - d') p with d' = min(d, (1 + t) / (10 + t)) after the t-th update, is what is
validated, kept and written.
"""
import argparse
import importlib.util
import json
import math
import os
import sys
import time

import torch

EVENT = 'typed-flows-event '
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8


def event(**fields):
    """One machine-readable line (typed-flows fit --engine pytorch parses them)."""
    print(EVENT + json.dumps(fields), flush=True)


def finite_or_text(v):
    """A number JSON can carry: non-finite values as text ('nan', 'inf')."""
    return v if math.isfinite(v) else str(v)


def load_model_module(folder):
    spec = importlib.util.spec_from_file_location('model', os.path.join(folder, 'model.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules['model'] = module
    spec.loader.exec_module(module)
    return module


def mean_nll(dist, rows, chunk=2048):
    """Mean -log p per row, in chunks, summed in float64 (as typed-flows' meanNll)."""
    if rows.shape[0] == 0:
        return math.nan
    total = 0.0
    with torch.no_grad():
        for start in range(0, rows.shape[0], chunk):
            total += (-dist.log_prob(rows[start:start + chunk])).double().sum().item()
    return total / rows.shape[0]


def main():
    parser = argparse.ArgumentParser(description='Fit an exported typed-flows distribution (see the module docstring).')
    parser.add_argument('--plan', required=True)
    parser.add_argument('--output', required=True)
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument('--threads', type=int)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == 'cuda' and not torch.cuda.is_available():
        print(f'--device cuda: torch {torch.__version__} under {sys.executable} sees no GPU (torch.cuda.is_available() is False); '
              'install a CUDA build of torch and an NVIDIA driver, or pass --device cpu', file=sys.stderr)
        sys.exit(3)
    device = torch.device(args.device)
    with open(args.plan) as f:
        plan = json.load(f)
    here = os.path.dirname(os.path.abspath(args.plan))
    model = load_model_module(here)
    dist = model.Distribution()
    metadata = model.load_params(dist, os.path.join(here, plan['init']))
    dist.to(device)
    rows, _ = model.read_safetensors(os.path.join(here, plan['rows']))
    train_x = rows['train'].to(device)
    val_x = rows['validation'].to(device) if 'validation' in rows else None
    batches, _ = model.read_safetensors(os.path.join(here, plan['batches']))
    order = batches['batches'].long()
    lrs = plan['lrs']
    steps, evaluate_every = plan['steps'], plan['evalEvery']
    clip, patience, min_delta = plan['clipNorm'], plan['patience'], plan['minDelta']
    named = dict(dist.named_parameters())
    missing = [p for p in plan['trainable'] if p not in named]
    if missing:
        raise SystemExit(f'trainable paths that are not parameters of model.py: {", ".join(missing)}')
    trained = [named[p] for p in plan['trainable']]
    for name, p in named.items():
        p.requires_grad_(name in set(plan['trainable']))
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in trained]
    decay, noise = plan.get('averaging', 0), plan.get('noise', 0)
    averages = [p.detach().clone() for p in trained] if decay > 0 else None
    averaged = 0
    scales = train_x.var(0, unbiased=False).sqrt() if noise > 0 else None
    generator = torch.Generator(device=device).manual_seed(plan.get('seed', 0) + 104729)

    def swap_average():
        """Exchanges the trainable parameters with their running average (a no-op without averaging)."""
        if averages is not None:
            with torch.no_grad():
                for p, a in zip(trained, averages):
                    held = p.detach().clone()
                    p.copy_(a)
                    a.copy_(held)

    event(event='start', step=0, steps=steps, processes=1, device=str(device), torch=torch.__version__)
    began = time.time()
    best = None  # (nll, step, state_dict copy)
    since_best, adam_step, step = 0, 0, 0
    skipped, in_a_row = 0, 0
    window, window_count = 0.0, 0
    stopped_early = False
    history = {'train': [], 'validation': []}

    def evaluate():
        nonlocal best, since_best, window, window_count
        swap_average()
        nll = mean_nll(dist, val_x) if val_x is not None else None
        improved = False
        if nll is not None and math.isfinite(nll) and (best is None or nll < best[0] - min_delta):
            best = (nll, step, {k: v.detach().clone() for k, v in dist.state_dict().items()})
            since_best, improved = 0, True
        elif nll is not None:
            since_best += 1
        swap_average()
        if nll is not None:
            history['validation'].append({'step': step, 'nll': finite_or_text(nll)})
        event(event='evaluation', step=step, steps=steps, trainLoss=finite_or_text(window / window_count if window_count else math.nan),
              validationNll=None if nll is None else finite_or_text(nll), best=None if best is None else best[0],
              bestStep=None if best is None else best[1], lr=lrs[step - 1] if step > 0 else None, skipped=skipped)
        window, window_count = 0.0, 0
        return not improved and since_best >= patience

    if val_x is not None:
        evaluate()
    while step < steps:
        x = train_x[order[step].to(device)]
        if scales is not None:
            x = x + noise * scales * torch.randn(x.shape, generator=generator, device=device)
        loss = -dist.log_prob(x).mean()
        grads = torch.autograd.grad(loss, trained, allow_unused=True)
        grads = [g if g is not None else torch.zeros_like(p) for g, p in zip(grads, trained)]
        norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item()
        loss_value = loss.item()
        step += 1
        ok = math.isfinite(loss_value) and math.isfinite(norm)
        history['train'].append({'step': step, 'loss': finite_or_text(loss_value), 'gradNorm': finite_or_text(norm), 'skipped': not ok})
        if ok:
            scale = 1.0 if clip is None else clip / max(norm, clip)
            lr = lrs[adam_step]
            adam_step += 1
            c1, c2 = 1 - BETA1 ** adam_step, 1 - BETA2 ** adam_step
            with torch.no_grad():
                for p, g, (m, v) in zip(trained, grads, moments):
                    g = g * scale
                    m.mul_(BETA1).add_(g, alpha=1 - BETA1)
                    v.mul_(BETA2).addcmul_(g, g, value=1 - BETA2)
                    p.sub_(lr * (m / c1) / (torch.sqrt(v / c2) + EPS))
            if averages is not None:
                averaged += 1
                d = min(decay, (1 + averaged) / (10 + averaged))
                with torch.no_grad():
                    for p, a in zip(trained, averages):
                        a.mul_(d).add_(p, alpha=1 - d)
            window += loss_value
            window_count += 1
            in_a_row = 0
        else:
            skipped += 1
            in_a_row += 1
            if in_a_row >= plan['maxConsecutiveSkips']:
                event(event='diverged', step=step, consecutive=in_a_row, loss=str(loss_value), norm=str(norm))
                sys.exit(4)
        if step % evaluate_every == 0 or step == steps:
            if evaluate():
                stopped_early = True
                break
    if best is not None:
        dist.load_state_dict(best[2])
    else:
        swap_average()
    meta = dict(metadata)
    meta['step'] = str(best[1] if best is not None else step)
    model.save_params(dist, args.output, meta)
    with open(args.output + '.history.json', 'w') as f:
        json.dump(history, f)
    event(event='done', step=step, seconds=time.time() - began, skipped=skipped, stopped=stopped_early,
          bestStep=best[1] if best is not None else step)


if __name__ == '__main__':
    main()
