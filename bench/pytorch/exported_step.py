"""One CAFLOW training step of the module typed-flows exports (caflowToPyTorch) next to the hand-written
bench/pytorch/caflow.py, in one process (bench/exported-pytorch.ts runs it).

Both take the same step: uniform dequantisation of a fixed 8-bit batch, the joint loss, backward, global
gradient-norm clipping at 1, the finiteness check and torch.optim.Adam; the batch is the same (NCHW for
the hand-written model, NHWC for the exported one, whose weights come from typed-flows' initCaflow).
Rounds alternate between the two, so a change in machine load hits both. Prints one line of JSON.
"""
import importlib.util
import json
import statistics
import sys

import torch
import torch.nn.functional as F

from caflow import Caflow as HandWritten
from timing import timed


def stepper(model, loss_of, w_pix, y_pix):
    params = [p for p in model.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        w = w_pix + torch.rand(w_pix.shape)
        y = y_pix + torch.rand(y_pix.shape)
        loss = loss_of(w, y)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        if torch.isfinite(loss) and torch.isfinite(norm):
            opt.step()
        return loss.item()

    return step, sum(p.numel() for p in params)


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg.get('threads', 2))
    torch.manual_seed(0)
    n, c, s = cfg['batch'], cfg['channels'], cfg['size']
    g = torch.Generator().manual_seed(7)
    ramp = torch.linspace(0, 200, s).view(1, 1, 1, s)
    w_pix = torch.floor(torch.clamp(ramp + torch.rand(n, c, s, s, generator=g) * 55, 0, 255))
    y_pix = torch.floor(F.avg_pool2d(w_pix, 3, 1, 1, count_include_pad=False) / 2)

    hand = HandWritten(c, c, cfg['scales'], cfg['encoderDepth'], cfg['conditionalDepth'], cfg['hidden'], cfg['hidden'])
    with torch.no_grad():
        hand.loss(w_pix + 0.5, y_pix + 0.5)  # its data-dependent ActNorm init
    hand_step, hand_params = stepper(hand, hand.loss, w_pix, y_pix)

    spec = importlib.util.spec_from_file_location('exported_caflow', cfg['module'])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    exported = mod.Caflow()
    mod.load_params(exported, cfg['params'])
    exported_step, exported_params = stepper(exported, exported.loss, w_pix.permute(0, 2, 3, 1).contiguous(), y_pix.permute(0, 2, 3, 1).contiguous())

    rounds = {'handwritten': [], 'exported': []}
    for _ in range(cfg.get('rounds', 3)):
        rounds['handwritten'].append(timed(hand_step, cfg['warmup'], cfg['reps'])['median_ms'])
        rounds['exported'].append(timed(exported_step, cfg['warmup'], cfg['reps'])['median_ms'])
    hw, ex = statistics.median(rounds['handwritten']), statistics.median(rounds['exported'])
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'rounds_ms': rounds,
                      'handwritten_ms': hw, 'exported_ms': ex, 'ratio': ex / hw,
                      'params': {'handwritten': hand_params, 'exported': exported_params}}))


if __name__ == '__main__':
    main()
