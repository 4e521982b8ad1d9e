"""The conditioner nets (Glow's conv net, MLPs, MADE) and their layers.

Parameters keep typed-flows' names and shapes (conv kernels [kH, kW, cIn, cOut], dense kernels
[in, out]) and are permuted where they are used, so state_dict() keys and shapes are the checkpoint's.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_same(x, kernel, bias):
    """'Same'-padded stride-1 convolution of a channels-last x [N, H, W, Cin] with a kernel stored
    [kH, kW, Cin, Cout] (typed-flows' layout) plus bias [Cout]: [N, H, W, Cout]."""
    return F.conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias, padding='same').permute(0, 2, 3, 1)


class Conv(nn.Module):
    """'Same'-padded stride-1 convolution; kernel stored [kH, kW, cIn, cOut] (typed-flows' layout)."""

    def __init__(self, k, c_in, c_out):
        super().__init__()
        self.kernel = nn.Parameter(torch.zeros(k, k, c_in, c_out))
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x):
        """x: [N, C, H, W] (a channels-last tensor viewed through permute, so no copy)."""
        return F.conv2d(x, self.kernel.permute(3, 2, 0, 1), self.bias, padding=self.kernel.shape[0] // 2)


class Dense(nn.Module):
    """y = x kernel + bias; kernel stored [in, out]."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.kernel = nn.Parameter(torch.zeros(c_in, c_out))
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x, mask=None):
        kernel = self.kernel if mask is None else self.kernel * mask
        return x @ kernel + self.bias


ACTIVATIONS = {'relu': F.relu, 'tanh': torch.tanh, 'elu': F.elu}


class ConvNet(nn.Module):
    """Glow's coupling net: conv(k0) c_in->hidden, ReLU, conv(k1) hidden->hidden, ReLU, conv(k2) hidden->c_out."""

    def __init__(self, c_in, hidden, c_out, kernels):
        super().__init__()
        self.conv0 = Conv(kernels[0], c_in, hidden)
        self.conv1 = Conv(kernels[1], hidden, hidden)
        self.conv2 = Conv(kernels[2], hidden, c_out)

    def forward(self, x):
        h = x.permute(0, 3, 1, 2)
        h = F.relu(self.conv0(h))
        h = F.relu(self.conv1(h))
        return self.conv2(h).permute(0, 2, 3, 1)


class MLP(nn.Module):
    """dense0 .. denseL with the activation after each hidden layer; with residual, a square hidden
    layer past the first adds its input."""

    def __init__(self, widths, activation, residual):
        super().__init__()
        for i in range(len(widths) - 1):
            self.add_module(f'dense{i}', Dense(widths[i], widths[i + 1]))
        self.activation = ACTIVATIONS[activation]
        self.residual = residual

    def forward(self, x):
        layers = list(self.children())
        h = x
        for i, layer in enumerate(layers):
            pre = layer(h)
            if i == len(layers) - 1:
                return pre
            a = self.activation(pre)
            square = layer.kernel.shape[0] == layer.kernel.shape[1]
            h = h + a if self.residual and i > 0 and square else a


class MADE(nn.Module):
    """A masked MLP (Germain et al. 2015): the first d inputs are autoregressive in 'order', the rest
    context; output o belongs to element o mod d and sees only the inputs before it in the order.
    The masks are rebuilt from the order (not saved), as typed-flows does."""

    def __init__(self, widths, activation, d, order):
        super().__init__()
        for i in range(len(widths) - 1):
            self.add_module(f'dense{i}', Dense(widths[i], widths[i + 1]))
        self.activation = ACTIVATIONS[activation]
        c_in, c_out = widths[0], widths[-1]
        in_degree = [0] * d
        for position, element in enumerate(order):
            in_degree[element] = position + 1
        below = [in_degree[i] if i < d else 0 for i in range(c_in)]

        def hidden_degree(k):
            return k % d if c_in > d else k % max(1, d - 1) + min(1, d - 1)

        layers = [([hidden_degree(k) for k in range(h)], False) for h in widths[1:-1]]
        layers.append(([in_degree[o % d] for o in range(c_out)], True))
        for i, (degrees, strict) in enumerate(layers):
            mask = [[float(a > b if strict else a >= b) for a in degrees] for b in below]
            self.register_buffer(f'mask{i}', torch.tensor(mask), persistent=False)
            below = degrees

    def forward(self, x):
        layers = [m for m in self.children()]
        h = x
        for i, layer in enumerate(layers):
            h = layer(h, getattr(self, f'mask{i}'))
            if i < len(layers) - 1:
                h = self.activation(h)
        return h
