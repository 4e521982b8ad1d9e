"""Trains the exported CAFLOW model with its typed-flows run config, on one or more processes.

    torchrun --standalone --nproc_per_node=2 --redirects 1 --tee 1 train.py    # 2 processes: CPU (gloo) or 2 GPUs (nccl)
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint=HOST:29400 --redirects 1 --tee 1 train.py
    (--redirects 1 --tee 1: Debian's torch 1.13 fails to start without them; they are harmless elsewhere)
    python3 train.py                                               # one process

Reads config.json (the run config), checkpoint.safetensors (where the run is: weights, Adam moments,
step) and data.safetensors (the run's training and validation pairs as 8-bit [N,H,W,C] arrays, exactly
as typed-flows prepared them). Options: --steps N (total, default the config's train.steps),
--checkpoint FILE (default checkpoint.safetensors here), --output FILE (default: the same file),
--checkpoint-every N (default the config's), --threads N (torch threads per process), --device cpu|cuda
(default: cuda when torch sees a GPU), --no-eval (skip the final validation NLL), --events (one
machine-readable JSON line per step and checkpoint, prefixed 'typed-flows-event ', instead of the readable
lines: what `typed-flows train --engine pytorch` reads), --stop-file FILE and --watch-pid PID (stop after
the current step and save when FILE appears or process PID is gone). Ctrl-C or SIGTERM: the processes agree
to stop after the current step, save a checkpoint and exit; a second signal ends them at once (the last
checkpoint stays intact: every write is a temporary file renamed into place).

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
import signal
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Caflow, load_params, mid_bin_bits_per_dim, read_safetensors, write_safetensors  # noqa: E402

EVENT = 'typed-flows-event '
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
DECAY_PER_EPOCH = 0.999
MILESTONES = [(70000, 0.1), (140000, 0.01)]
MAX_CONSECUTIVE_SKIPS = 10


def event(**fields):
    """One machine-readable line (typed-flows train --engine pytorch parses them)."""
    print(EVENT + json.dumps(fields), flush=True)


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
    parser.add_argument('--device', choices=['cpu', 'cuda'])
    parser.add_argument('--no-eval', action='store_true')
    parser.add_argument('--events', action='store_true')
    parser.add_argument('--stop-file')
    parser.add_argument('--watch-pid', type=int)
    args = parser.parse_args()
    output = args.output or args.checkpoint
    if args.threads:
        torch.set_num_threads(args.threads)

    distributed = 'RANK' in os.environ
    cuda = torch.cuda.is_available() if args.device is None else args.device == 'cuda'
    if cuda and not torch.cuda.is_available():
        print(f'--device cuda: torch {torch.__version__} under {sys.executable} sees no GPU (torch.cuda.is_available() is False); '
              'install a CUDA build of torch and an NVIDIA driver, or pass --device cpu', file=sys.stderr)
        sys.exit(3)
    if distributed:
        dist.init_process_group('nccl' if cuda else 'gloo')
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else 'cpu')
    if cuda:
        torch.cuda.set_device(device)

    # A first Ctrl-C or SIGTERM asks to stop after this step (the processes agree on the step); a second one ends at once.
    signalled = []

    def on_signal(number, _frame):
        if signalled:
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
        signalled.append(number)

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, on_signal)

    def stop_asked():
        if signalled or (args.stop_file and os.path.exists(args.stop_file)):
            return True
        if args.watch_pid:
            try:
                os.kill(args.watch_pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                pass
        return False

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
        if args.events:
            event(event='checkpoint', step=step, path=output)

    if rank == 0:
        if args.events:
            event(event='start', step=start, steps=steps, processes=world, device=str(device), torch=torch.__version__)
        else:
            print(f'training from step {start} to {steps} on {world} process(es), {per_rank} pairs each per step, device {device}', flush=True)
    began = time.time()
    skipped_in_a_row, skipped = 0, 0
    batches = torch.Generator().manual_seed(0)
    noise = torch.Generator(device=device if cuda else 'cpu')
    step, stopped = start, False
    while step < steps:
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
        # The loss averaged over the processes, and whether any of them was asked to stop, in one exchange.
        shared = torch.stack([loss.detach().float(), torch.tensor(1.0 if stop_asked() else 0.0, device=loss.device)])
        if distributed:
            dist.all_reduce(shared)
        loss_value = shared[0] / world
        stop = shared[1].item() > 0
        trained = [(k, p) for k, p in parameters.items() if trains(phase, k)]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for _, p in trained]
        norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).float()
        loss_value, norm_value = loss_value.item(), norm.item()
        step += 1
        if math.isfinite(loss_value) and math.isfinite(norm_value):
            lr = learning_rate(step, train['lr'], train['warmup'], steps_per_epoch)
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
            history.append([step, loss_value])
            skipped_in_a_row = 0
        else:
            skipped += 1
            skipped_in_a_row += 1
            if skipped_in_a_row >= MAX_CONSECUTIVE_SKIPS:
                save(step)
                message = (f'training diverged: {skipped_in_a_row} steps in a row had a non-finite loss or gradient norm '
                           f'(last loss {loss_value}, gradient norm {norm_value}); the last good state is saved in {output}')
                if rank == 0 and args.events:
                    event(event='diverged', step=step, consecutive=skipped_in_a_row, loss=str(loss_value), norm=str(norm_value))
                raise SystemExit(message)
        rate = (step - start) / max(time.time() - began, 1e-9)
        if rank == 0 and args.events:
            event(event='step', step=step, steps=steps, loss=loss_value if math.isfinite(loss_value) else str(loss_value), skipped=skipped, rate=rate)
        elif rank == 0 and (step % 10 == 0 or step == steps):
            print(f'step {step}/{steps}  loss {loss_value:.4f}  {rate:.2f} steps/s', flush=True)
        if stop and step < steps:
            stopped = True
            break
        if step % every == 0 and step < steps:
            save(step)
    seconds = time.time() - began
    save(step)
    if rank == 0:
        result = {'step': step, 'steps_this_run': step - start, 'seconds': seconds, 'processes': world, 'skipped': skipped, 'stopped': stopped, 'checkpoint': output}
        if not args.no_eval and not stopped:
            model.eval()
            nll = mid_bin_bits_per_dim(model, data['val.w'].to(device), data['val.y'].to(device))
            result.update({'val_pairs': int(data['val.w'].shape[0]), 'val_mid_bin_bits_per_dim': nll})
            with open(os.path.join(os.path.dirname(os.path.abspath(output)), 'pytorch-metrics.json'), 'w') as f:
                json.dump(result, f, indent=2)
        if args.events:
            event(event='done', **result)
        else:
            print(json.dumps(result), flush=True)
    if distributed:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
