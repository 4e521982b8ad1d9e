"""PyTorch side of the density-estimation benchmark (bench/density.ts runs this in its own process).

Usage: /usr/bin/python3 bench/pytorch/density.py '<json config>'
(or '{"check": "<file>"}': log p under given parameters, for test/project/bench-density.test.ts).
The config names a JSON file of data sets ({"datasets": [{"name", "train", "test"}]}, rows of numbers,
written by bench/density.ts) and the budget and architecture shared with the typed-flows side.
Prints one line of JSON: {"torch", "threads", "results": [{"dataset", "flow", "test_nll", "train_loss",
"ms_per_step", "ms_per_step_1_thread", "total_s", "params"}]}.

The flows are those of bench/density.ts, written in plain PyTorch with the same parametrisation:
  MAF: `layers` x (MADE-conditioned affine autoregressive layer, then reverse the coordinates);
  NSF: the same with a rational-quadratic spline transformer (`bins` bins on [-bound, bound], identity
  tails outside), as in src/dsl/transformers/spline.ts.
A MADE here is the one of src/layers/mlp.ts: natural order, hidden degrees k mod (D-1) + 1, ReLU,
nn.Linear's default init for the hidden layers and a zero output layer (so a fresh flow is the
identity), outputs in blocks of D (channel o belongs to element o mod D).
Training: Adam (PyTorch defaults but lr), global-norm clipping, minibatches from epochs of a seeded
permutation; the held-out NLL is the mean -log p over the test rows, in nats.
"""
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MIN_BIN = 1e-3
MIN_DERIVATIVE = 1e-3
DERIVATIVE_SHIFT = math.log(math.expm1(1 - MIN_DERIVATIVE))


class MADE(nn.Module):
    def __init__(self, d, hidden, values_per_element):
        super().__init__()
        sizes = [d, *hidden, values_per_element * d]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        nn.init.zeros_(self.layers[-1].weight)
        nn.init.zeros_(self.layers[-1].bias)
        degrees = [torch.arange(1, d + 1)]
        degrees += [torch.arange(h) % max(1, d - 1) + min(1, d - 1) for h in hidden]
        out = torch.arange(values_per_element * d) % d + 1
        masks = [(b[:, None] >= a[None, :]).float() for a, b in zip(degrees[:-1], degrees[1:])]
        masks.append((out[:, None] > degrees[-1][None, :]).float())
        for i, m in enumerate(masks):  # nn.Linear's weight is [out, in]
            self.register_buffer(f"mask{i}", m)

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = F.linear(x, layer.weight * getattr(self, f"mask{i}"), layer.bias)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


def affine(x, raw, clamp):
    s_raw, t = raw.chunk(2, dim=1)
    s = clamp * (2 / math.pi) * torch.atan(s_raw)
    return x * torch.exp(s) + t, s.sum(1)


def spline(x, raw, bins, bound):
    """Rational-quadratic spline (Durkan et al. 2019) on [-bound, bound], identity outside."""
    n, d = x.shape
    u = raw.view(n, 3 * bins - 1, d).permute(0, 2, 1)  # blocks of D -> [n, d, 3K-1]
    min_bin = min(MIN_BIN, 0.5 / bins)

    def knots(v):
        frac = min_bin + (1 - min_bin * bins) * torch.softmax(v, -1)
        inner = -bound + 2 * bound * torch.cumsum(frac, -1)[..., :-1]
        ends = torch.full_like(inner[..., :1], bound)
        return torch.cat([-ends, inner, ends], -1)

    xk, yk = knots(u[..., :bins]), knots(u[..., bins:2 * bins])
    w, h = xk[..., 1:] - xk[..., :-1], yk[..., 1:] - yk[..., :-1]
    ones = torch.ones_like(u[..., :1])
    deriv = torch.cat([ones, F.softplus(u[..., 2 * bins:] + DERIVATIVE_SHIFT) + MIN_DERIVATIVE, ones], -1)
    inside = (x >= -bound) & (x <= bound)
    xc = x.clamp(-bound, bound)
    k = torch.searchsorted(xk[..., 1:-1].contiguous(), xc[..., None], right=True)
    at = lambda t, i=k: t.gather(-1, i)[..., 0]  # noqa: E731
    wk, hk, x0, y0, d0, d1 = at(w), at(h), at(xk), at(yk), at(deriv), at(deriv, k + 1)
    s = hk / wk
    xi = (xc - x0) / wk
    den = s + (d1 + d0 - 2 * s) * xi * (1 - xi)
    y = y0 + hk * (s * xi ** 2 + d0 * xi * (1 - xi)) / den
    grad = s ** 2 * (d1 * xi ** 2 + 2 * s * xi * (1 - xi) + d0 * (1 - xi) ** 2) / den ** 2
    y = torch.where(inside, y, x)
    log_det = torch.where(inside, torch.log(grad), torch.zeros_like(x))
    return y, log_det.sum(1)


class AutoregressiveFlow(nn.Module):
    """`layers` x (autoregressive layer, reverse); forward is data -> noise, as in typed-flows."""

    def __init__(self, d, cfg, transformer):
        super().__init__()
        self.cfg, self.transformer = cfg, transformer
        per_element = 2 if transformer == "affine" else 3 * cfg["bins"] - 1
        self.nets = nn.ModuleList(MADE(d, cfg["hidden"], per_element) for _ in range(cfg["layers"]))

    def log_prob(self, x):
        total = torch.zeros(x.shape[0])
        for net in self.nets:
            if self.transformer == "affine":
                x, ld = affine(x, net(x), self.cfg["clamp"])
            else:
                x, ld = spline(x, net(x), self.cfg["bins"], self.cfg["bound"])
            total = total + ld
            x = x.flip(1)
        return total - 0.5 * (x ** 2).sum(1) - 0.5 * x.shape[1] * math.log(2 * math.pi)


def run(name, flow_name, train, test, cfg):
    torch.manual_seed(cfg["seed"])
    model = AutoregressiveFlow(train.shape[1], cfg, "affine" if flow_name == "MAF" else "spline")
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    g = torch.Generator().manual_seed(cfg["seed"])
    order, cursor, times, losses = torch.randperm(len(train), generator=g), 0, [], []
    start = time.perf_counter()
    for _ in range(cfg["steps"]):
        if cursor + cfg["batch"] > len(train):
            order, cursor = torch.randperm(len(train), generator=g), 0
        t0 = time.perf_counter()
        xb = train[order[cursor:cursor + cfg["batch"]]]
        cursor += cfg["batch"]
        loss = -model.log_prob(xb).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip_norm"])
        opt.step()
        losses.append(loss.item())
        times.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - start
    with torch.no_grad():
        test_nll = -torch.cat([model.log_prob(c) for c in test.split(4096)]).mean().item()
    # The same step on one thread (tfjs-wasm in Node runs on one), a few more steps after the measurement.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    one_thread = []
    for _ in range(cfg["single_thread_steps"]):
        t0 = time.perf_counter()
        loss = -model.log_prob(train[order[:cfg["batch"]]]).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip_norm"])
        opt.step()
        loss.item()
        one_thread.append((time.perf_counter() - t0) * 1000)
    torch.set_num_threads(threads)
    tail = losses[-50:]
    return {
        "dataset": name,
        "flow": flow_name,
        "test_nll": test_nll,
        "train_loss": sum(tail) / len(tail),
        "ms_per_step": statistics.median(times),
        "ms_per_step_1_thread": statistics.median(one_thread) if one_thread else None,
        "total_s": total,
        "params": sum(p.numel() for p in model.parameters()),
    }


def check(cfg):
    """log p of cfg's rows under cfg's flow with typed-flows' parameters ("<layer>.0.net.dense<l>.kernel"
    [in, out] and ".bias"): test/project/bench-density.test.ts compares it with typed-flows' own."""
    model = AutoregressiveFlow(len(cfg["x"][0]), cfg, "affine" if cfg["flow"] == "MAF" else "spline")
    with torch.no_grad():
        for i, net in enumerate(model.nets):
            for l, layer in enumerate(net.layers):
                layer.weight.copy_(torch.tensor(cfg["params"][f"{i}.0.net.dense{l}.kernel"]).T)
                layer.bias.copy_(torch.tensor(cfg["params"][f"{i}.0.net.dense{l}.bias"]))
        return model.log_prob(torch.tensor(cfg["x"])).tolist()


def main():
    cfg = json.loads(sys.argv[1])
    if "check" in cfg:
        with open(cfg["check"]) as f:
            print(json.dumps(check(json.load(f))))
        return
    torch.set_num_threads(cfg["threads"])
    with open(cfg["data"]) as f:
        datasets = json.load(f)["datasets"]
    results = []
    for ds in datasets:
        train = torch.tensor(ds["train"], dtype=torch.float32)
        test = torch.tensor(ds["test"], dtype=torch.float32)
        for flow_name in cfg["flows"]:
            r = run(ds["name"], flow_name, train, test, cfg)
            print(f"{r['dataset']} {flow_name}: test NLL {r['test_nll']:.4f}, {r['ms_per_step']:.2f} ms/step", file=sys.stderr)
            results.append(r)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
