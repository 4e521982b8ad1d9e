"""CAFLOW re-implemented in plain PyTorch for the benchmarks (docs/caflow.md, "The design").

Written to do the same work as typed-flows' CAFLOW (src/caflow/), layer for layer, so the FLOPs match:
the same layer counts, widths, conditioning and objective. bench.py checks that the parameter count
equals the tfjs model's. Tensors are NCHW here (PyTorch's layout); typed-flows is NHWC. This is a
benchmark workload, not a port: no checkpoint compatibility is attempted.

Encoder (R for Y, T for W): logit preprocessing, then per scale: squeeze, 2 x [ActNorm, Inv1x1],
depth x [ActNorm, Inv1x1, AffineCoupling]; after each block but the last the first half of the
channels leaves as a latent.
G_i: per scale j = i..n-1 a block squeeze, [ActNorm, Inv1x1], depth x [ActNorm, Inv1x1,
ConditionalAffine(cond_j), AffineCoupling(cond_j)], split after each block but the last; cond_i is
squeeze(D_i), cond_j (j > i) is [squeeze(L_j), squeeze(D_j)].
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def squeeze(x):
    """(N, C, H, W) -> (N, 4C, H/2, W/2), channel c*4 + 2*dy + dx (typed-flows' order)."""
    n, c, h, w = x.shape
    return x.view(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


def unsqueeze(y):
    n, c4, h, w = y.shape
    c = c4 // 4
    return y.view(n, c, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c, 2 * h, 2 * w)


def log_normal(z):
    return -(0.5 * z * z + HALF_LOG_2PI).flatten(1).sum(1)


def soft_clamp(s_raw, clamp):
    return clamp * (2 / math.pi) * torch.atan(s_raw)


class ActNorm(nn.Module):
    """y = (x + b) * exp(logs); data-dependent init on the first forward call (Glow)."""

    def __init__(self, c):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.logs = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.initialized = False

    def forward(self, x, cond=None):
        if not self.initialized:
            with torch.no_grad():
                mean = x.mean(dim=(0, 2, 3), keepdim=True)
                std = x.std(dim=(0, 2, 3), keepdim=True, unbiased=False)
                self.bias.copy_(-mean)
                self.logs.copy_(-torch.log(std + 1e-6))
            self.initialized = True
        hw = x.shape[2] * x.shape[3]
        return (x + self.bias) * torch.exp(self.logs), (hw * self.logs.sum()).expand(x.shape[0])

    def inverse(self, y, cond=None):
        hw = y.shape[2] * y.shape[3]
        return y * torch.exp(-self.logs) - self.bias, (-hw * self.logs.sum()).expand(y.shape[0])


class Inv1x1(nn.Module):
    """y = W x per pixel, W random orthogonal at init; log-det H W log|det W|."""

    def __init__(self, c, generator):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(c, c, generator=generator))
        self.weight = nn.Parameter(q)

    def forward(self, x, cond=None):
        c = self.weight.shape[0]
        hw = x.shape[2] * x.shape[3]
        return F.conv2d(x, self.weight.view(c, c, 1, 1)), (hw * torch.slogdet(self.weight)[1]).expand(x.shape[0])

    def inverse(self, y, cond=None):
        c = self.weight.shape[0]
        hw = y.shape[2] * y.shape[3]
        w_inv = torch.inverse(self.weight)
        return F.conv2d(y, w_inv.view(c, c, 1, 1)), (-hw * torch.slogdet(self.weight)[1]).expand(y.shape[0])


class ConvNet(nn.Module):
    """conv3x3 cin->h, ReLU, conv1x1 h->h, ReLU, conv3x3 h->cout (last layer zero)."""

    def __init__(self, cin, hidden, cout):
        super().__init__()
        self.conv0 = nn.Conv2d(cin, hidden, 3, padding=1)
        self.conv1 = nn.Conv2d(hidden, hidden, 1)
        self.conv2 = nn.Conv2d(hidden, cout, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x):
        return self.conv2(F.relu(self.conv1(F.relu(self.conv0(x)))))


class AffineCoupling(nn.Module):
    """x1 = first floor(C/2) channels passes; (s_raw, t) = NN([x1, cond...]); y2 = x2 exp(s) + t."""

    def __init__(self, c, cond_channels, hidden, clamp):
        super().__init__()
        self.c1 = c // 2
        self.c2 = c - self.c1
        self.clamp = clamp
        self.net = ConvNet(self.c1 + cond_channels, hidden, 2 * self.c2)

    def _st(self, x1, cond):
        h = self.net(x1 if cond is None else torch.cat([x1, cond], 1))
        return soft_clamp(h[:, : self.c2], self.clamp), h[:, self.c2:]

    def forward(self, x, cond=None):
        x1, x2 = x[:, : self.c1], x[:, self.c1:]
        s, t = self._st(x1, cond)
        return torch.cat([x1, x2 * torch.exp(s) + t], 1), s.flatten(1).sum(1)

    def inverse(self, y, cond=None):
        y1, y2 = y[:, : self.c1], y[:, self.c1:]
        s, t = self._st(y1, cond)
        return torch.cat([y1, (y2 - t) * torch.exp(-s)], 1), -s.flatten(1).sum(1)


class ConditionalAffine(nn.Module):
    """SRFlow's affine injector: (s_raw, t) = NN(cond); y = x exp(s) + t over all channels."""

    def __init__(self, c, cond_channels, hidden, clamp):
        super().__init__()
        self.c = c
        self.clamp = clamp
        self.net = ConvNet(cond_channels, hidden, 2 * c)

    def _st(self, cond):
        h = self.net(cond)
        return soft_clamp(h[:, : self.c], self.clamp), h[:, self.c:]

    def forward(self, x, cond):
        s, t = self._st(cond)
        return x * torch.exp(s) + t, s.flatten(1).sum(1)

    def inverse(self, y, cond):
        s, t = self._st(cond)
        return (y - t) * torch.exp(-s), -s.flatten(1).sum(1)


class Logit(nn.Module):
    def __init__(self, alpha=1e-5, levels=256):
        super().__init__()
        self.alpha = alpha
        self.levels = levels
        self.const = -math.log(levels) + math.log1p(-alpha)

    def forward(self, x):
        p = x * ((1 - self.alpha) / self.levels) + self.alpha / 2
        log_p = torch.log(p)
        log_1mp = torch.log1p(-p)
        return log_p - log_1mp, (self.const - log_p - log_1mp).flatten(1).sum(1)

    def inverse(self, y):
        log_p = -F.softplus(-y)
        log_1mp = -F.softplus(y)
        x = (torch.sigmoid(y) - self.alpha / 2) * (self.levels / (1 - self.alpha))
        return x, (-self.const + log_p + log_1mp).flatten(1).sum(1)


class Block(nn.ModuleList):
    """The layers after one squeeze; `cond` is passed to every layer (unconditional ones ignore it)."""

    def forward(self, x, cond=None):
        ld = torch.zeros(x.shape[0], device=x.device)
        for layer in self:
            x, l = layer(x, cond)
            ld = ld + l
        return x, ld

    def inverse(self, y, cond=None):
        ld = torch.zeros(y.shape[0], device=y.device)
        for layer in reversed(self):
            y, l = layer.inverse(y, cond)
            ld = ld + l
        return y, ld


class Encoder(nn.Module):
    def __init__(self, channels, scales, depth, hidden, clamp, generator, dequantize=True):
        super().__init__()
        self.logit = Logit() if dequantize else None
        self.scales = scales
        blocks = []
        c = channels
        for s in range(scales):
            c4 = 4 * c
            layers = []
            for _ in range(2):
                layers += [ActNorm(c4), Inv1x1(c4, generator)]
            for _ in range(depth):
                layers += [ActNorm(c4), Inv1x1(c4, generator), AffineCoupling(c4, 0, hidden, clamp)]
            blocks.append(Block(layers))
            c = c4 // 2
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x):
        ld = torch.zeros(x.shape[0], device=x.device)
        if self.logit is not None:
            x, ld = self.logit(x)
        zs = []
        for s, block in enumerate(self.blocks):
            x, l = block(squeeze(x))
            ld = ld + l
            if s < self.scales - 1:
                z, x = torch.chunk(x, 2, 1)
                zs.append(z)
            else:
                zs.append(x)
        return zs, ld

    def inverse(self, zs):
        x = zs[-1]
        ld = torch.zeros(x.shape[0], device=x.device)
        for s in reversed(range(self.scales)):
            if s < self.scales - 1:
                x = torch.cat([zs[s], x], 1)
            x, l = self.blocks[s].inverse(x)
            ld = ld + l
            x = unsqueeze(x)
        if self.logit is not None:
            x, l = self.logit.inverse(x)
            ld = ld + l
        return x, ld


def latent_channels(channels, scales):
    """Channels of the encoder latents L_0..L_{n-1} (the spatial size halves per scale)."""
    return [2 ** (s + 1) * channels if s < scales - 1 else 2 ** (scales + 1) * channels for s in range(scales)]


class Conditional(nn.Module):
    """G_i: L_i -> z_i^i..z_i^{n-1}, conditioned on squeeze(D_i), then [squeeze(L_j), squeeze(D_j)]."""

    def __init__(self, i, l_channels, d_channels, depth, hidden, clamp, generator):
        super().__init__()
        self.i = i
        self.n = len(l_channels)
        blocks = []
        c = l_channels[i]
        for j in range(i, self.n):
            cond = 4 * d_channels[i] if j == i else 4 * l_channels[j] + 4 * d_channels[j]
            c4 = 4 * c
            layers = [ActNorm(c4), Inv1x1(c4, generator)]
            for _ in range(depth):
                layers += [
                    ActNorm(c4),
                    Inv1x1(c4, generator),
                    ConditionalAffine(c4, cond, hidden, clamp),
                    AffineCoupling(c4, cond, hidden, clamp),
                ]
            blocks.append(Block(layers))
            c = c4 // 2
        self.blocks = nn.ModuleList(blocks)

    def cond(self, j, sq_l, sq_d):
        return sq_d[j] if j == self.i else torch.cat([sq_l[j], sq_d[j]], 1)

    def forward(self, x, sq_l, sq_d):
        ld = torch.zeros(x.shape[0], device=x.device)
        zs = []
        for k, block in enumerate(self.blocks):
            j = self.i + k
            x, l = block(squeeze(x), self.cond(j, sq_l, sq_d))
            ld = ld + l
            if j < self.n - 1:
                z, x = torch.chunk(x, 2, 1)
                zs.append(z)
            else:
                zs.append(x)
        return zs, ld

    def inverse(self, zs, sq_l, sq_d):
        x = zs[-1]
        ld = torch.zeros(x.shape[0], device=x.device)
        for k in reversed(range(len(self.blocks))):
            j = self.i + k
            if j < self.n - 1:
                x = torch.cat([zs[k], x], 1)
            x, l = self.blocks[k].inverse(x, self.cond(j, sq_l, sq_d))
            ld = ld + l
            x = unsqueeze(x)
        return x, ld


class Caflow(nn.Module):
    def __init__(self, channels, cond_channels, scales, encoder_depth, conditional_depth, encoder_hidden, conditional_hidden,
                 clamp=2.0, lam=1e-3, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.lam = lam
        self.scales = scales
        self.R = Encoder(cond_channels, scales, encoder_depth, encoder_hidden, clamp, g)
        self.T = Encoder(channels, scales, encoder_depth, encoder_hidden, clamp, g)
        lc = latent_channels(channels, scales)
        dc = latent_channels(cond_channels, scales)
        self.G = nn.ModuleList(Conditional(i, lc, dc, conditional_depth, conditional_hidden, clamp, g) for i in range(scales))

    def loss(self, w, y):
        """-(lambda log p_R(Y) + log p(W|Y)) per dimension of W, averaged over the batch."""
        D, ld_r = self.R(y)
        L, ld_t = self.T(w)
        sq_d = [squeeze(d) for d in D]
        sq_l = [squeeze(l) for l in L]
        log_py = sum(log_normal(d) for d in D) + ld_r
        cond = ld_t
        for i, g in enumerate(self.G):
            zs, ld = g(L[i], sq_l, sq_d)
            cond = cond + sum(log_normal(z) for z in zs) + ld
        joint = self.lam * log_py + cond
        return -joint.mean() / (w.shape[1] * w.shape[2] * w.shape[3])

    @torch.no_grad()
    def sample(self, y, k, generator, temperature=1.0):
        """k samples per condition, ranked by log p(W|Y) (best first), as typed-flows' sample()."""
        rows = y.shape[0] * k
        yk = y.repeat_interleave(k, 0)
        D, _ = self.R(yk)
        sq_d = [squeeze(d) for d in D]
        n = self.scales
        L = [None] * n
        sq_l = [None] * n
        loglik = torch.zeros(rows)
        h, w = y.shape[2], y.shape[3]
        lc = [d.shape[1] for d in D]  # same channel counts as the W latents when Y and W match
        for i in reversed(range(n)):
            g = self.G[i]
            zs = []
            c, hh, ww = lc[i] * 4, h // 2 ** (i + 2), w // 2 ** (i + 2)
            for j in range(i, n):
                last = j == n - 1
                shape = (rows, c if last else c // 2, hh, ww)
                zs.append(torch.randn(shape, generator=generator) * temperature)
                c, hh, ww = 2 * c, hh // 2, ww // 2
            x, ld = g.inverse(zs, sq_l, sq_d)
            L[i] = x
            sq_l[i] = squeeze(x)
            loglik = loglik + sum(log_normal(z) for z in zs) - ld
        out, ld = self.T.inverse(L)
        loglik = loglik - ld
        order = torch.cat([b * k + torch.argsort(loglik[b * k:(b + 1) * k], descending=True) for b in range(y.shape[0])])
        return out[order], loglik[order]
