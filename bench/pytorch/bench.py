"""PyTorch CPU side of typed-flows' benchmarks (bench/run.ts runs this in its own process).

Usage: /usr/bin/python3 bench/pytorch/bench.py '<json config>'
Prints one line of JSON: {"torch", "threads", "figures": {name: {"median_ms", "samples_ms", "warmup_runs"}}, "shapes"}.
Each figure is timed after a warm-up that lasts until the time per call has settled (timing.py).
Figures: the coupling-net workload of the design notes (forward; forward + backward), one CAFLOW
training step (joint loss, backward, global-norm clipping at 1, Adam), the same step with the CAFLOW
module typed-flows exports (when the config names it), and CAFLOW sampling.
"""
import importlib.util
import json
import math
import sys

import torch
import torch.nn.functional as F

from caflow import ActNorm, AffineCoupling, Block, Caflow, Inv1x1, latent_channels, soft_clamp
from timing import timed, warm_up


def coupling(cfg, figures, shapes):
    """conv3x3 6->h, relu, conv1x1 h->h, relu, conv3x3 h->12 on a batch of N x 12 x S x S, then the affine
    transform (soft-clamped scale) and its log-det; the loss for backward is the standard-normal NLL."""
    n, c, s, h, clamp = cfg["batch"], cfg["channels"], cfg["size"], cfg["hidden"], cfg["clamp"]
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, c, s, s, generator=g) - 0.5
    c1 = c // 2
    c2 = c - c1
    w0 = (torch.rand(h, c1, 3, 3, generator=g) - 0.5) * 0.2
    w1 = (torch.rand(h, h, 1, 1, generator=g) - 0.5) * 0.2
    w2 = (torch.rand(2 * c2, h, 3, 3, generator=g) - 0.5) * 0.02
    bs = [torch.zeros(h), torch.zeros(h), torch.zeros(2 * c2)]
    params = [t.requires_grad_() for t in [w0, bs[0], w1, bs[1], w2, bs[2]]]

    def forward():
        x1, x2 = x[:, :c1], x[:, c1:]
        a = F.relu(F.conv2d(x1, params[0], params[1], padding=1))
        a = F.relu(F.conv2d(a, params[2], params[3]))
        out = F.conv2d(a, params[4], params[5], padding=1)
        sc = soft_clamp(out[:, :c2], clamp)
        y = torch.cat([x1, x2 * torch.exp(sc) + out[:, c2:]], 1)
        return y, sc.flatten(1).sum(1)

    def nll():
        y, ld = forward()
        return (0.5 * (y * y).flatten(1).sum(1) - ld).mean() / (c * s * s)

    def fwd():
        with torch.no_grad():
            nll()

    def fwd_bwd():
        nll().backward()

    def clear():
        for p in params:
            p.grad = None

    # The first figure of the process: warm up both passes (the backward one touches more kernels and
    # grows the allocator) before timing either, each until its time per call has settled.
    warm_up(fwd_bwd, cfg["warmup"], clear)
    figures["coupling_forward"] = timed(fwd, cfg["warmup"], cfg["reps"])
    figures["coupling_forward_backward"] = timed(fwd_bwd, cfg["warmup"], cfg["reps"], clear)
    shapes["coupling_params"] = sum(p.numel() for p in params)


def caflow(cfg, figures, shapes):
    torch.manual_seed(0)
    m = Caflow(cfg["channels"], cfg["channels"], cfg["scales"], cfg["encoderDepth"], cfg["conditionalDepth"],
               cfg["hidden"], cfg["hidden"])
    n, c, s = cfg["batch"], cfg["channels"], cfg["size"]
    g = torch.Generator().manual_seed(7)
    ramp = torch.linspace(0, 200, s).view(1, 1, 1, s)
    w_pix = torch.floor(torch.clamp(ramp + torch.rand(n, c, s, s, generator=g) * 55, 0, 255))
    y_pix = torch.floor(F.avg_pool2d(w_pix, 3, 1, 1, count_include_pad=False) / 2)
    with torch.no_grad():  # data-dependent ActNorm init, as initCaflow does
        m.loss(w_pix + 0.5, y_pix + 0.5)
    params = [p for p in m.parameters()]
    shapes["caflow_params"] = sum(p.numel() for p in params)
    shapes["caflow_latents"] = latent_channels(c, cfg["scales"])
    opt = torch.optim.Adam(params, lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        w = w_pix + torch.rand(w_pix.shape)  # uniform dequantisation, as caflowStep does
        y = y_pix + torch.rand(y_pix.shape)
        loss = m.loss(w, y)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        if torch.isfinite(loss) and torch.isfinite(norm):  # the NaN-skipping check of trainStep (one sync)
            opt.step()
        return loss.item()

    figures["caflow_step"] = timed(step, cfg["warmup"], cfg["reps"])
    if "exported" in cfg:
        exported_step(cfg, w_pix, y_pix, figures, shapes)

    sc = cfg["sample"]
    y1 = y_pix[:1] + 0.5
    gen = torch.Generator().manual_seed(1)
    figures["caflow_sample"] = timed(lambda: m.sample(y1, sc["k"], gen), sc["warmup"], sc["reps"])


def engines(cfg, figures, shapes):
    """Section 7 (inference only, torch.no_grad): CAFLOW sampling (k samples of one Y), CAFLOW
    likelihood of a batch (the joint objective's forward pass: R, T and every G_i), and a Glow block
    forward (depth x [ActNorm, Inv1x1, AffineCoupling]), on the workloads bench/onnx.ts times on
    ONNX Runtime and tfjs."""
    c = cfg["caflow"]
    torch.manual_seed(0)
    m = Caflow(c["channels"], c["channels"], c["scales"], c["encoderDepth"], c["conditionalDepth"], c["hidden"], c["hidden"])
    n, ch, s = c["batch"], c["channels"], c["size"]
    g = torch.Generator().manual_seed(7)
    ramp = torch.linspace(0, 200, s).view(1, 1, 1, s)
    w_pix = torch.floor(torch.clamp(ramp + torch.rand(n, ch, s, s, generator=g) * 55, 0, 255))
    y_pix = torch.floor(F.avg_pool2d(w_pix, 3, 1, 1, count_include_pad=False) / 2)
    with torch.no_grad():
        m.loss(w_pix + 0.5, y_pix + 0.5)  # data-dependent ActNorm init
        y1 = y_pix[:1] + 0.5
        gen = torch.Generator().manual_seed(1)
        figures["engines_caflow_sample"] = timed(lambda: m.sample(y1, cfg["k"], gen), c["warmup"], c["reps"])
        figures["engines_caflow_likelihood"] = timed(lambda: m.loss(w_pix + 0.5, y_pix + 0.5).item(), c["warmup"], c["reps"])
        gl = cfg["glow"]
        gen = torch.Generator().manual_seed(2)
        block = Block([layer for _ in range(gl["depth"]) for layer in (ActNorm(gl["channels"]), Inv1x1(gl["channels"], gen), AffineCoupling(gl["channels"], 0, gl["hidden"], 2.0))])
        x = torch.randn(gl["batch"], gl["channels"], gl["size"], gl["size"], generator=gen)
        block(x)  # data-dependent ActNorm init
        figures["engines_glow_forward"] = timed(lambda: block(x)[1].sum().item(), gl["warmup"], gl["reps"])
        shapes["engines_glow_params"] = sum(p.numel() for p in block.parameters())


def exported_step(cfg, w_pix, y_pix, figures, shapes):
    """The same training step with the CAFLOW that typed-flows exports (caflowToPyTorch; module written by
    bench/versus-pytorch.ts), on the same batch in its channels-last layout. Its weights are set like the
    hand-written model's at init: conv kernels U(-1/sqrt(fan_in), 1/sqrt(fan_in)) but the last layer of each
    net (zero), random orthogonal 1x1 convolutions, ActNorm from the first batch (one forward pass)."""
    spec = importlib.util.spec_from_file_location("exported_caflow", cfg["exported"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    m = mod.Caflow()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("kernel") and ".conv2." not in name:
                bound = 1 / math.sqrt(p.shape[0] * p.shape[1] * p.shape[2])
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * bound)
            elif name.endswith(".weight") and p.dim() == 2:
                p.copy_(torch.linalg.qr(torch.randn(p.shape, generator=g))[0])
        actnorm_init(m, w_pix.permute(0, 2, 3, 1) + 0.5, y_pix.permute(0, 2, 3, 1) + 0.5)
    w, y = w_pix.permute(0, 2, 3, 1).contiguous(), y_pix.permute(0, 2, 3, 1).contiguous()
    params = [p for p in m.parameters()]
    shapes["caflow_exported_params"] = sum(p.numel() for p in params)
    opt = torch.optim.Adam(params, lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = m.loss(w + torch.rand(w.shape), y + torch.rand(y.shape))
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        if torch.isfinite(loss) and torch.isfinite(norm):
            opt.step()
        return loss.item()

    figures["caflow_step_exported"] = timed(step, cfg["warmup"], cfg["reps"])


def actnorm_init(m, w, y):
    """Data-dependent ActNorm initialisation of the exported model: each ActNorm, in the order the data
    reaches it, gets bias = -mean and logScale = -log(std + 1e-6) of its input (as typed-flows' init)."""
    def hook(module, args):
        x = args[0][0]
        dims = tuple(range(x.dim() - 1))
        module.bias.copy_(-x.mean(dims))
        module.logScale.copy_(-torch.log(x.std(dims, unbiased=False) + 1e-6))
    handles = []
    for module in m.modules():
        if type(module).__name__ == "ActNorm":
            original = module._forward

            def patched(xs, ctx, module=module, original=original):
                hook(module, (xs,))
                return original(xs, ctx)
            module._forward = patched
            handles.append((module, original))
    m.log_likelihood(w, y)
    for module, _ in handles:
        del module._forward  # back to the class's method


def main():
    cfg = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    threads = int(cfg.get("threads", 2))
    torch.set_num_threads(threads)
    figures, shapes = {}, {}
    if "coupling" in cfg:
        coupling(cfg["coupling"], figures, shapes)
    if "caflow" in cfg:
        caflow(cfg["caflow"], figures, shapes)
    if "engines" in cfg:
        engines(cfg["engines"], figures, shapes)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "figures": figures, "shapes": shapes}))


if __name__ == "__main__":
    main()
