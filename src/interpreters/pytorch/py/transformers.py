"""Elementwise transformers of couplings and autoregressive layers: callables (z, raw, inverse) ->
(out, log|det| per sample), raw being the conditioner's output for every element of z."""
import math

import torch
import torch.nn.functional as F

from .flow import sum_per_sample, zero_log_det


def affine_transform(z, raw, inverse, clamp):
    """raw = [s_raw, t] on channels; s = clamp (2/pi) atan(s_raw); y = z exp(s) + t, log|dy/dz| = s."""
    s_raw, t = raw.chunk(2, -1)
    s = torch.atan(s_raw) * (2 * clamp / math.pi)
    if inverse:
        return (z - t) * torch.exp(-s), -sum_per_sample(s)
    return z * torch.exp(s) + t, sum_per_sample(s)


def additive_transform(z, raw, inverse):
    """y = z + t; volume preserving."""
    return (z - raw if inverse else z + raw), zero_log_det(z)


SPLINE_MIN_BIN = 1e-3
SPLINE_MIN_DERIVATIVE = 1e-3
SPLINE_DERIVATIVE_SHIFT = math.log(math.expm1(1 - SPLINE_MIN_DERIVATIVE))


def spline_knots(u, k, bound):
    """Bin sizes (softmax mixed with a minimum size, scaled to 2B) and knots from -B to B (pinned)."""
    m = u.shape[0]
    min_bin = min(SPLINE_MIN_BIN, 0.5 / k)
    frac = min_bin + (1 - min_bin * k) * torch.softmax(u, 1)
    inner = -bound + 2 * bound * torch.cumsum(frac, 1)[:, :k - 1]
    knots = torch.cat([u.new_full((m, 1), -bound), inner, u.new_full((m, 1), bound)], 1)
    return knots, knots[:, 1:] - knots[:, :-1]


def rq_spline(z, raw, k, bound, inverse):
    """The rational-quadratic spline of Durkan et al. (2019) on [-B, B], identity outside.

    z: [M]; raw: [M, 3K-1] = [K widths, K heights, K-1 interior derivatives]. Returns the outputs and
    the elementwise log|d out / d z|.
    """
    m = z.shape[0]
    xk_all, widths = spline_knots(raw[:, :k], k, bound)
    yk_all, heights = spline_knots(raw[:, k:2 * k], k, bound)
    interior = F.softplus(raw[:, 2 * k:] + SPLINE_DERIVATIVE_SHIFT) + SPLINE_MIN_DERIVATIVE
    ones = z.new_ones((m, 1))
    derivs = torch.cat([ones, interior, ones], 1)
    zc = z.clamp(-bound, bound)
    knots = yk_all if inverse else xk_all
    # The bin: how many interior knots lie at or below z.
    index = (zc.unsqueeze(1) >= knots[:, 1:k]).sum(1, keepdim=True)

    def pick(t):
        return t.gather(1, index).squeeze(1)

    xk, wk = pick(xk_all[:, :k]), pick(widths)
    yk, hk = pick(yk_all[:, :k]), pick(heights)
    dk, dk1 = pick(derivs[:, :k]), pick(derivs[:, 1:])
    s = hk / wk
    d_sum = dk + dk1 - 2 * s
    if inverse:
        dy = zc - yk
        a = hk * (s - dk) + dy * d_sum
        b = hk * dk - dy * d_sum
        c = -s * dy
        root = torch.sqrt(F.relu(b * b - 4 * a * c))
        b_non_neg = b >= 0
        # The root in whichever form adds terms of one sign (no cancellation).
        den1 = torch.where(b_non_neg, -b - root, torch.ones_like(b))
        den2 = torch.where(b_non_neg, torch.ones_like(a), 2 * a)
        xi = torch.where(b_non_neg, 2 * c / den1, (root - b) / den2).clamp(0, 1)
    else:
        xi = ((zc - xk) / wk).clamp(0, 1)
    xi1 = 1 - xi
    t = xi * xi1
    denom = s + d_sum * t
    if inverse:
        out = xk + xi * wk
    else:
        out = yk + hk * (s * xi * xi + dk * t) / denom
    inner_term = dk1 * xi * xi + 2 * s * t + dk * xi1 * xi1
    log_deriv = 2 * torch.log(s) + torch.log(inner_term) - 2 * torch.log(denom)
    inside = (z >= -bound) & (z <= bound)
    return torch.where(inside, out, z), torch.where(inside, -log_deriv if inverse else log_deriv, torch.zeros_like(z))


def spline_transform(z, raw, inverse, bins, bound):
    """The spline on every element of z, each with its own 3K-1 net outputs (element-major)."""
    out, log_det = rq_spline(z.reshape(-1), raw.reshape(-1, 3 * bins - 1), bins, bound, inverse)
    return out.reshape(z.shape), sum_per_sample(log_det.reshape(z.shape))
