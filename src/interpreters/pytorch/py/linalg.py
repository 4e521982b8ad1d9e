"""Matrix helpers: determinants and inverses in float64 (as typed-flows computes them), channel mixing."""
import torch
import torch.nn.functional as F


def log_abs_det(w):
    """log|det W|, computed in float64."""
    return torch.linalg.slogdet(w.double())[1].to(w.dtype)


def inverse_matrix(w):
    """W^-1, computed in float64."""
    return torch.linalg.inv(w.double()).to(w.dtype)


def matmul_last(x, w):
    """x [..., K] times w [K, M]. On an image [N, H, W, K] this is a 1x1 convolution of its channels-last
    NCHW view (no copy): oneDNN runs that much faster than matmul does through a generic BLAS (Debian's
    torch), and the result is the same up to float32 rounding."""
    if x.dim() == 4:
        return F.conv2d(x.permute(0, 3, 1, 2), w.t()[:, :, None, None]).permute(0, 2, 3, 1)
    return x @ w


def mix_channels(x, w):
    """y[..., o] = sum_c w[o, c] x[..., c] (Glow's 1x1 convolution)."""
    return matmul_last(x, w.t())
