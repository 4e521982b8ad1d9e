"""The hand-written flows of the kinds whose maths is not written on the op algebra: the PyTorch
engine's overrides (src/interpreters/pytorch/overrides.ts lists them). A kind with an algebra gets a
generated class instead, unless overrides.ts keeps its class for speed and says why.

Parameters keep typed-flows' names and shapes, so state_dict() keys and shapes are the checkpoint's;
frozen parameters (LU permutation and sign) are buffers; determinants and matrix inverses are computed
in float64, as typed-flows does.
"""
import torch
import torch.nn as nn

from .flow import Flow, per_sample
from .linalg import inverse_matrix, mix_channels


class Inv1x1LU(Flow):
    """y = W x with W = P (L + I) (U + diag(sign exp(logS))), L strictly lower, U strictly upper;
    log|det| = positions * sum(logS). P and sign are fixed (buffers)."""

    def __init__(self, channels, positions):
        super().__init__()
        self.register_buffer('permutation', torch.eye(channels))
        self.register_buffer('sign', torch.ones(channels))
        self.lower = nn.Parameter(torch.zeros(channels, channels))
        self.upper = nn.Parameter(torch.zeros(channels, channels))
        self.logS = nn.Parameter(torch.zeros(channels))
        ones = torch.ones(channels, channels)
        self.register_buffer('lower_mask', torch.tril(ones, -1), persistent=False)
        self.register_buffer('upper_mask', torch.triu(ones, 1), persistent=False)
        self.positions = positions

    def weight(self):
        eye = torch.eye(self.logS.shape[0], device=self.logS.device, dtype=self.logS.dtype)
        lower = self.lower * self.lower_mask + eye
        upper = self.upper * self.upper_mask + torch.diag(self.sign * torch.exp(self.logS))
        return self.permutation @ (lower @ upper)

    def _forward(self, xs, ctx):
        x, = xs
        return [mix_channels(x, self.weight())], per_sample(x, self.logS.sum() * self.positions)

    def _inverse(self, ys, ctx):
        y, = ys
        return [mix_channels(y, inverse_matrix(self.weight()))], per_sample(y, self.logS.sum() * -self.positions)
