"""CAFLOW and Dual-Glow+ in PyTorch: the training losses, sampling with a temperature (one, or one per
scale) and ranking of the k samples per condition. The exported model.py defines `Caflow`, a CaflowModel
with the model's flows and constants, whose `log_likelihood`, `encoders_log_prob` and `from_latents` are
written from CAFLOW's maths (src/caflow/maths.ts) for that model, as typed-flows' other engines run it."""
import math

import torch
import torch.nn as nn


def temperature_at(temperature, scale):
    """One temperature, or one per scale (fine to coarse; the last one for scales beyond the list)."""
    if isinstance(temperature, (int, float)):
        return temperature
    return temperature[scale] if scale < len(temperature) else temperature[-1]


class CaflowModel(nn.Module):
    """Encoders R (condition Y -> D_0..D_{n-1}) and T (target W -> L_0..L_{n-1}), and conditional flows
    G_i mapping L_i to normal latents, conditioned on the squeezed D_i and, for CAFLOW (variant
    'caflow'), on the squeezed L_j and D_j of every coarser scale j > i.

    Images are channels-last [N, H, W, C] floats on the 0..256 scale (dequantised pixels).
    latent_shapes[i] lists the (H, W, C) of each latent G_i emits (z_i^i .. z_i^{n-1}).
    """

    def __init__(self, variant, lam, latent_shapes, R, T, G):
        super().__init__()
        self.variant = variant
        self.lam = lam
        self.latent_shapes = latent_shapes
        self.R = R
        self.T = T
        self.G = nn.ModuleList(G)

    def loss(self, w, y):
        """The training loss: -joint log-likelihood per dimension of W, batch mean (nats/dim)."""
        return -self.log_likelihood(w, y)['joint'].mean() / (w.shape[1] * w.shape[2] * w.shape[3])

    def encoders_loss(self, w, y):
        """-(log p_R(Y) + log p_T(W)) per dimension: the unconditional pretraining objective."""
        dims = w.shape[1] * w.shape[2] * w.shape[3] + y.shape[1] * y.shape[2] * y.shape[3]
        return -self.encoders_log_prob(w, y).mean() / dims

    def forward(self, w, y, phase='joint'):
        """The loss of a training phase ('joint', 'encoders' or 'priors'), for DistributedDataParallel."""
        return self.encoders_loss(w, y) if phase == 'encoders' else self.loss(w, y)

    def conditional_bits_per_dim(self, w, y):
        """-log p(W | Y) in bits per dimension of W, per sample."""
        return -self.log_likelihood(w, y)['conditional'] / (w.shape[1] * w.shape[2] * w.shape[3] * math.log(2))

    def sample(self, y, k, temperature=1.0, noise=None, generator=None):
        """k samples per condition Y, ranked: rows b*k .. b*k+k-1 hold condition b's samples, best
        (highest log p(W | Y)) first. Latent z_i^j ~ N(0, temperature_at(temperature, i + j)^2 I);
        noise, if given, holds the standard normal draws noise[i][j] of shape [N*k, H, W, C]."""
        rows = y.shape[0] * k
        z = []
        for i, shapes in enumerate(self.latent_shapes):
            zi = []
            for j, (h, w_, c) in enumerate(shapes):
                e = noise[i][j] if noise is not None else torch.randn(rows, h, w_, c, generator=generator, device=y.device)
                zi.append(e * temperature_at(temperature, i + j))
            z.append(zi)
        w, log_lik = self.from_latents(z, y.repeat_interleave(k, 0))
        ranks = torch.argsort(log_lik.reshape(-1, k), dim=1, descending=True)
        order = (ranks + torch.arange(y.shape[0], device=y.device).unsqueeze(1) * k).reshape(-1)
        return w[order], log_lik[order]


def mid_bin_bits_per_dim(model, w_pixels, y_pixels, batch_size=32):
    """Mean -log p(W + 0.5 | Y + 0.5) in bits per dimension over 8-bit pairs ([N,H,W,C]): the
    deterministic mid-bin NLL that typed-flows' eval reports as nll.midBin."""
    total, count = 0.0, w_pixels.shape[0]
    with torch.no_grad():
        for start in range(0, count, batch_size):
            w = w_pixels[start:start + batch_size].float() + 0.5
            y = y_pixels[start:start + batch_size].float() + 0.5
            total += model.conditional_bits_per_dim(w, y).double().sum().item()
    return total / count
