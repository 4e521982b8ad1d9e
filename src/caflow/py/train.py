"""Trains the exported CAFLOW model with its typed-flows run config, on one or more processes.

    torchrun --standalone --nproc_per_node=2 --redirects 1 --tee 1 train.py    # 2 processes: CPU (gloo) or 2 GPUs (nccl)
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint=HOST:29400 --redirects 1 --tee 1 train.py
    (--redirects 1 --tee 1: Debian's torch 1.13 fails to start without them; they are harmless elsewhere)
    python3 train.py                                               # one process

Reads config.json (the run config), checkpoint.safetensors (where the run is: weights, Adam moments,
step) and data.safetensors (the run's training and validation pairs as 8-bit [N,H,W,C] arrays, exactly
as typed-flows prepared them). Options: --steps N (total, default the config's train.steps),
--checkpoint FILE (default checkpoint.safetensors here), --output FILE (default: the same file),
--checkpoint-every N (default the config's), --threads N (torch threads per process).

What typed-flows train does, step for step: Adam (0.9, 0.999, eps 1e-8, bias-corrected); learning rate
lr * min(1, step / warmup) * 0.999^epoch, x0.1 from step 70k and x0.01 from 140k; the global gradient norm
clipped to clipNorm (scale clipNorm / max(norm, clipNorm)); a step whose loss or gradient norm is not finite
is skipped (nothing changes) and 10 in a row stop the run; W and Y get fresh uniform dequantisation noise
every step; mode 'joint' or 'pretrain' (R and T for the first half of the steps, then the G_i, each phase
with a fresh Adam state). The global batch is the config's batchSize, split evenly over the processes
(DistributedDataParallel averages their gradients, so it is the gradient of the whole batch's loss).
Random draws (batches, noise) come from torch's generator, not typed-flows', so a run is equivalent, not
bitwise identical.

Bring the result back with: typed-flows import --checkpoint checkpoint.safetensors --name <new run>
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Caflow, load_params, mid_bin_bits_per_dim, read_safetensors, write_safetensors  # noqa: E402

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
DECAY_PER_EPOCH = 0.999
MILESTONES = [(70000, 0.1), (140000, 0.01)]
MAX_CONSECUTIVE_SKIPS = 10


def learning_rate(step, base, warmup, steps_per_epoch):
    """The rate of optimiser step 'step' (1-based), as src/training/schedule.ts."""
    factor, last = 1.0, -math.inf
    for at, f in MILESTONES:
        if last <= at <= step:
            last, factor = at, f
    warm = 1.0 if warmup == 0 else min(1.0, step / warmup)
    return base * warm * DECAY_PER_EPOCH ** (step // steps_per_epoch) * factor


def phase_at(mode, step, steps):
    if mode == 'joint':
        return 'joint'
    return 'encoders' if step < steps // 2 else 'priors'


def trains(phase, name):
    return phase == 'joint' or (name.startswith(('R.', 'T.')) if phase == 'encoders' else name.startswith('G.'))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description='Train the exported CAFLOW model (see the module docstring).')
    parser.add_argument('--steps', type=int)
    parser.add_argument('--checkpoint', default=os.path.join(here, 'checkpoint.safetensors'))
    parser.add_argument('--output')
    parser.add_argument('--checkpoint-every', type=int)
    parser.add_argument('--threads', type=int)
    parser.add_argument('--config', default=os.path.join(here, 'config.json'))
    parser.add_argument('--data', default=os.path.join(here, 'data.safetensors'))
    args = parser.parse_args()
    output = args.output or args.checkpoint
    if args.threads:
        torch.set_num_threads(args.threads)

    distributed = 'RANK' in os.environ
    cuda = torch.cuda.is_available()
    if distributed:
        dist.init_process_group('nccl' if cuda else 'gloo')
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else 'cpu')
    if cuda:
        torch.cuda.set_device(device)

    with open(args.config) as f:
        config = json.load(f)
    train = config['train']
    steps = args.steps or train['steps']
    every = args.checkpoint_every or train['checkpointEvery']
    if train['batchSize'] % world != 0:
        raise SystemExit(f"the batch size {train['batchSize']} does not split over {world} processes; use a batch size divisible by the process count")
    per_rank = train['batchSize'] // world

    tensors, metadata = read_safetensors(args.checkpoint)
    stored = json.loads(metadata.get('config', '{}'))
    start = int(metadata['step'])
    adam_step = int(stored.get('adamStep', start))
    history = list(stored.get('history', []))
    model = Caflow()
    load_params(model, args.checkpoint)  # a missing, extra or mis-shaped tensor is an error naming it
    params = model.state_dict()
    model.to(device)
    names = list(model.state_dict().keys())
    moments = {slot: {k: tensors.get(f'optimizer.{slot}.{k}', torch.zeros_like(params[k])).clone().to(device) for k in names} for slot in ('m', 'v')}
    parameters = dict(model.named_parameters())

    data, _ = read_safetensors(args.data)
    train_w, train_y = data['train.w'], data['train.y']
    count = train_w.shape[0]
    steps_per_epoch = max(1, count // train['batchSize'])
    net = DistributedDataParallel(model, find_unused_parameters=train['mode'] == 'pretrain') if distributed else model

    def save(step):
        if rank != 0:
            return
        out = {f'params.{k}': v for k, v in model.state_dict().items()}
        for slot, m in moments.items():
            out.update({f'optimizer.{slot}.{k}': v for k, v in m.items()})
        meta = dict(metadata)
        meta['step'] = str(step)
        meta['config'] = json.dumps({'run': stored.get('run', config), 'adamStep': adam_step, 'history': history})
        write_safetensors(output, out, meta)

    if rank == 0:
        print(f'training from step {start} to {steps} on {world} process(es), {per_rank} pairs each per step, device {device}', flush=True)
    began = time.time()
    skipped_in_a_row, skipped = 0, 0
    batches = torch.Generator().manual_seed(0)
    noise = torch.Generator(device=device if cuda else 'cpu')
    for step in range(start, steps):
        phase = phase_at(train['mode'], step, steps)
        if step > 0 and phase != phase_at(train['mode'], step - 1, steps):
            adam_step = 0
            moments = {slot: {k: torch.zeros_like(v) for k, v in m.items()} for slot, m in moments.items()}
        # The same global batch on every process (a seeded draw with replacement); each takes its share.
        batches.manual_seed(train['seed'] * 1000003 + step * 7919)
        indices = torch.randint(count, (train['batchSize'],), generator=batches)[rank * per_rank:(rank + 1) * per_rank]
        noise.manual_seed((train['seed'] * 100003 + step) * 1009 + rank)
        w = train_w[indices].to(device).float()
        y = train_y[indices].to(device).float()
        w = w + torch.rand(w.shape, generator=noise, device=w.device)
        y = y + torch.rand(y.shape, generator=noise, device=y.device)

        model.zero_grad(set_to_none=True)
        loss = net(w, y, phase)
        loss.backward()
        loss_value = loss.detach().clone()
        if distributed:
            dist.all_reduce(loss_value)
            loss_value /= world
        trained = [(k, p) for k, p in parameters.items() if trains(phase, k)]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for _, p in trained]
        norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).float()
        loss_value, norm_value = loss_value.item(), norm.item()
        if math.isfinite(loss_value) and math.isfinite(norm_value):
            lr = learning_rate(step + 1, train['lr'], train['warmup'], steps_per_epoch)
            scale = train['clipNorm'] / max(norm_value, train['clipNorm'])
            adam_step += 1
            c1, c2 = 1 - BETA1 ** adam_step, 1 - BETA2 ** adam_step
            with torch.no_grad():
                for (k, p), g in zip(trained, grads):
                    g = g * scale
                    m, v = moments['m'][k], moments['v'][k]
                    m.mul_(BETA1).add_(g, alpha=1 - BETA1)
                    v.mul_(BETA2).addcmul_(g, g, value=1 - BETA2)
                    p.sub_(lr * (m / c1) / (torch.sqrt(v / c2) + EPS))
            history.append([step + 1, loss_value])
            skipped_in_a_row = 0
        else:
            skipped += 1
            skipped_in_a_row += 1
            if skipped_in_a_row >= MAX_CONSECUTIVE_SKIPS:
                save(step + 1)
                raise SystemExit(f'training diverged: {skipped_in_a_row} steps in a row had a non-finite loss or gradient norm '
                                 f'(last loss {loss_value}, gradient norm {norm_value}); the last good state is saved in {output}')
        if rank == 0 and ((step + 1) % 10 == 0 or step + 1 == steps):
            rate = (step + 1 - start) / (time.time() - began)
            print(f'step {step + 1}/{steps}  loss {loss_value:.4f}  {rate:.2f} steps/s', flush=True)
        if (step + 1) % every == 0 and step + 1 < steps:
            save(step + 1)
    seconds = time.time() - began
    save(steps)
    if rank == 0:
        model.eval()
        nll = mid_bin_bits_per_dim(model, data['val.w'].to(device), data['val.y'].to(device))
        result = {'step': steps, 'steps_this_run': steps - start, 'seconds': seconds, 'processes': world,
                  'skipped': skipped, 'val_pairs': int(data['val.w'].shape[0]), 'val_mid_bin_bits_per_dim': nll,
                  'checkpoint': output}
        with open(os.path.join(os.path.dirname(os.path.abspath(output)), 'pytorch-metrics.json'), 'w') as f:
            json.dump(result, f, indent=2)
        print(json.dumps(result), flush=True)
    if distributed:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
