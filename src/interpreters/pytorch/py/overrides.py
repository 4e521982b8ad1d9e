"""The hand-written flows of the kinds whose maths is not yet written on the op algebra: the PyTorch
engine's overrides (src/interpreters/pytorch/overrides.ts lists them). A kind with an algebra gets a
generated class instead, unless overrides.ts keeps its class for speed and says why.

Parameters keep typed-flows' names and shapes, so state_dict() keys and shapes are the checkpoint's;
frozen parameters (LU permutation and sign, batch-norm statistics) are buffers; determinants and
matrix inverses are computed in float64, as typed-flows does.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .flow import Flow, per_sample, sum_per_sample, zero_log_det
from .linalg import inverse_matrix, log_abs_det, mix_channels
from .space_to_depth import depth_to_space, space_to_depth
from .transformers import affine_transform


class Affine(Flow):
    """Elementwise y = x exp(logScale) + shift (parameters of the channels-last event's shape)."""

    def __init__(self, event):
        super().__init__()
        self.logScale = nn.Parameter(torch.zeros(event))
        self.shift = nn.Parameter(torch.zeros(event))

    def _forward(self, xs, ctx):
        x, = xs
        return [x * torch.exp(self.logScale) + self.shift], per_sample(x, self.logScale.sum())

    def _inverse(self, ys, ctx):
        y, = ys
        return [(y - self.shift) * torch.exp(-self.logScale)], per_sample(y, -self.logScale.sum())


class ActNorm(Flow):
    """Per channel y = (x + bias) exp(logScale); log|det| = positions * sum(logScale)."""

    def __init__(self, channels, positions):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))
        self.logScale = nn.Parameter(torch.zeros(channels))
        self.positions = positions

    def _forward(self, xs, ctx):
        x, = xs
        return [(x + self.bias) * torch.exp(self.logScale)], per_sample(x, self.logScale.sum() * self.positions)

    def _inverse(self, ys, ctx):
        y, = ys
        return [y * torch.exp(-self.logScale) - self.bias], per_sample(y, self.logScale.sum() * -self.positions)


class Inv1x1(Flow):
    """y = W x at every position (Glow's 1x1 convolution); log|det| = positions * log|det W|."""

    def __init__(self, channels, positions):
        super().__init__()
        self.weight = nn.Parameter(torch.eye(channels))
        self.positions = positions

    def _forward(self, xs, ctx):
        x, = xs
        return [mix_channels(x, self.weight)], per_sample(x, log_abs_det(self.weight) * self.positions)

    def _inverse(self, ys, ctx):
        y, = ys
        return [mix_channels(y, inverse_matrix(self.weight))], per_sample(y, log_abs_det(self.weight) * -self.positions)


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


class Coupling(Flow):
    """x = [x1, x2] on channels (x1 the first floor(C/2)); the net reads [x1, cond...] and gives the
    transformer's parameters for every element of x2; y = [x1, transform(x2)]."""

    def __init__(self, channels, cond, net, transform):
        super().__init__()
        self.split_at = channels // 2
        self.cond = cond
        self.net = net
        self.transform = transform

    def _pass(self, x, ctx, inverse):
        x1, x2 = x[..., :self.split_at], x[..., self.split_at:]
        raw = self.net(torch.cat([x1] + [ctx[name] for name in self.cond], -1))
        out, log_det = self.transform(x2, raw, inverse)
        return [torch.cat([x1, out], -1)], log_det

    def _forward(self, xs, ctx):
        return self._pass(xs[0], ctx, False)

    def _inverse(self, ys, ctx):
        return self._pass(ys[0], ctx, True)


class ConditionalAffine(Flow):
    """SRFlow's affine injector: (s_raw, t) = net(cond...), y = x exp(s) + t over every channel."""

    def __init__(self, cond, net, clamp):
        super().__init__()
        self.cond = cond
        self.net = net
        self.clamp = clamp

    def _pass(self, x, ctx, inverse):
        inputs = [ctx[name] for name in self.cond]
        raw = self.net(inputs[0] if len(inputs) == 1 else torch.cat(inputs, -1))
        out, log_det = affine_transform(x, raw, inverse, self.clamp)
        return [out], log_det

    def _forward(self, xs, ctx):
        return self._pass(xs[0], ctx, False)

    def _inverse(self, ys, ctx):
        return self._pass(ys[0], ctx, True)


class Squeeze(Flow):
    """2x2 space-to-depth, [C,H,W] -> [4C,H/2,W/2]."""

    def _forward(self, xs, ctx):
        return [space_to_depth(xs[0])], zero_log_det(xs[0])

    def _inverse(self, ys, ctx):
        return [depth_to_space(ys[0])], zero_log_det(ys[0])


class Unsqueeze(Flow):
    """2x2 depth-to-space, [C,H,W] -> [C/4,2H,2W]."""

    def _forward(self, xs, ctx):
        return [depth_to_space(xs[0])], zero_log_det(xs[0])

    def _inverse(self, ys, ctx):
        return [space_to_depth(ys[0])], zero_log_det(ys[0])


class Permute(Flow):
    """y[..., c] = x[..., perm[c]]."""

    def __init__(self, perm):
        super().__init__()
        inverse = [0] * len(perm)
        for i, p in enumerate(perm):
            inverse[p] = i
        self.register_buffer('perm', torch.tensor(perm), persistent=False)
        self.register_buffer('inverse_perm', torch.tensor(inverse), persistent=False)

    def _forward(self, xs, ctx):
        return [xs[0].index_select(-1, self.perm)], zero_log_det(xs[0])

    def _inverse(self, ys, ctx):
        return [ys[0].index_select(-1, self.inverse_perm)], zero_log_det(ys[0])


class Identity(Flow):
    def _forward(self, xs, ctx):
        return list(xs), zero_log_det(xs[0])

    def _inverse(self, ys, ctx):
        return list(ys), zero_log_det(ys[0])


class Split(Flow):
    """One tensor to two on the channel axis: channels [0, at) and [at, C)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def _forward(self, xs, ctx):
        x, = xs
        return [x[..., :self.at], x[..., self.at:]], zero_log_det(x)

    def _inverse(self, ys, ctx):
        return [torch.cat(ys, -1)], zero_log_det(ys[0])


class Concat(Flow):
    """Two tensors to one on the channel axis (the first has 'at' channels)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def _forward(self, xs, ctx):
        return [torch.cat(xs, -1)], zero_log_det(xs[0])

    def _inverse(self, ys, ctx):
        y, = ys
        return [y[..., :self.at], y[..., self.at:]], zero_log_det(y)


class MaskedAutoregressive(Flow):
    """MAF on vectors [D]: forward (data -> noise) in one pass of the MADE, inverse in D passes."""

    def __init__(self, d, cond, net, transform, values_per_element, element_major):
        super().__init__()
        self.d = d
        self.cond = cond
        self.net = net
        self.transform = transform
        self.m = values_per_element
        self.element_major = element_major

    def parameters_at(self, x, ctx):
        raw = self.net(torch.cat([x] + [ctx[name] for name in self.cond], -1))
        if not self.element_major:
            return raw
        n = raw.shape[0]
        return raw.reshape(n, self.m, self.d).transpose(1, 2).reshape(n, self.d * self.m)

    def _forward(self, xs, ctx):
        x, = xs
        out, log_det = self.transform(x, self.parameters_at(x, ctx), False)
        return [out], log_det

    def _inverse(self, ys, ctx):
        z, = ys
        x, log_det = torch.zeros_like(z), zero_log_det(z)
        for _ in range(self.d):
            x, log_det = self.transform(z, self.parameters_at(x, ctx), True)
        return [x], log_det


class Softplus(Flow):
    """y = log(1 + e^x), log|dy/dx| = -softplus(-x)."""

    def _forward(self, xs, ctx):
        x, = xs
        return [F.softplus(x)], -sum_per_sample(F.softplus(-x))

    def _inverse(self, ys, ctx):
        y, = ys
        log_one_minus = torch.log(-torch.expm1(-y))
        return [y + log_one_minus], -sum_per_sample(log_one_minus)


class Tanh(Flow):
    """y = tanh(x), log|dy/dx| = 2 (log 2 - x - softplus(-2x))."""

    def _forward(self, xs, ctx):
        x, = xs
        return [torch.tanh(x)], sum_per_sample(2 * (math.log(2) - x - F.softplus(-2 * x)))

    def _inverse(self, ys, ctx):
        y, = ys
        a, b = torch.log1p(y), torch.log1p(-y)
        return [0.5 * (a - b)], -sum_per_sample(a + b)


class ScaleShift(Flow):
    """Fixed: y = scale x + shift. Learnable: per channel y = sign(scale) exp(logScale) x + shift."""

    def __init__(self, channels, scale, shift, learnable, size, positions):
        super().__init__()
        self.learnable = learnable
        self.scale, self.shift_value = scale, shift
        self.size, self.positions = size, positions
        if learnable:
            self.logScale = nn.Parameter(torch.full((channels,), math.log(abs(scale))))
            self.shift = nn.Parameter(torch.full((channels,), float(shift)))

    def _parts(self, x):
        if not self.learnable:
            return self.scale, self.shift_value, x.new_full((x.shape[0],), self.size * math.log(abs(self.scale)))
        sign = 1.0 if self.scale > 0 else -1.0
        return sign * torch.exp(self.logScale), self.shift, per_sample(x, self.logScale.sum() * self.positions)

    def _forward(self, xs, ctx):
        scale, shift, log_det = self._parts(xs[0])
        return [xs[0] * scale + shift], log_det

    def _inverse(self, ys, ctx):
        scale, shift, log_det = self._parts(ys[0])
        return [(ys[0] - shift) / scale], -log_det


class BatchNorm(Flow):
    """Batch normalisation as a bijector in inference mode (running statistics, saved as buffers):
    y = (x - mean) exp(logGamma - log(variance + eps) / 2) + beta."""

    def __init__(self, channels, eps, positions):
        super().__init__()
        self.logGamma = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.zeros(channels))
        self.register_buffer('mean', torch.zeros(channels))
        self.register_buffer('variance', torch.ones(channels))
        self.eps, self.positions = eps, positions

    def _log_scale(self):
        return self.logGamma - 0.5 * torch.log(self.variance + self.eps)

    def _forward(self, xs, ctx):
        x, = xs
        log_scale = self._log_scale()
        return [(x - self.mean) * torch.exp(log_scale) + self.beta], per_sample(x, log_scale.sum() * self.positions)

    def _inverse(self, ys, ctx):
        y, = ys
        log_scale = self._log_scale()
        return [(y - self.beta) * torch.exp(-log_scale) + self.mean], per_sample(y, log_scale.sum() * -self.positions)


class Reshape(Flow):
    """An event of one shape to another with as many elements, in the channels-last element order."""

    def __init__(self, event_in, event_out):
        super().__init__()
        self.event_in, self.event_out = event_in, event_out

    def _forward(self, xs, ctx):
        x, = xs
        return [x.reshape(x.shape[0], *self.event_out)], zero_log_det(x)

    def _inverse(self, ys, ctx):
        y, = ys
        return [y.reshape(y.shape[0], *self.event_in)], zero_log_det(y)
