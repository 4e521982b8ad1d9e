"""The convolution the generated modules call for the algebra's conv2d (typed-flows' layout)."""
import torch.nn.functional as F


def conv_same(x, kernel, bias):
    """'Same'-padded stride-1 convolution of a channels-last x [N, H, W, Cin] with a kernel stored
    [kH, kW, Cin, Cout] (typed-flows' layout) plus bias [Cout]: [N, H, W, Cout]."""
    return F.conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias, padding='same').permute(0, 2, 3, 1)
