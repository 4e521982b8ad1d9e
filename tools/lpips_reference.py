#!/usr/bin/env python3
"""Reference LPIPS (net='alex', version 0.1) in plain PyTorch, for cross-checking src/metrics/lpips.ts.

Rebuilds the architecture of the `lpips` package (lpips.LPIPS(net='alex')) without torchvision or the
lpips package, with the same module names, so its state_dict keys are the real ones
(net.slice1.0.weight, ..., lin0.model.1.weight, ..., lins.0.model.1.weight, ..., scaling_layer.shift/scale).
Weights are random
(seeded): the point is to check the computation, not the pretrained values.

    /usr/bin/python3 tools/lpips_reference.py --seed 0 --weights w.safetensors --pairs pairs.json

pairs.json: {"shape": [N, H, W, C], "a": [uint8 ...], "b": [uint8 ...]} (NHWC, row-major, 0..255).
Writes the weights (safetensors, written by hand: the `safetensors` module may be missing) and prints
{"float32": [d_0, ...], "float64": [...]}: LPIPS of each pair computed in float32 and in float64.
"""
import argparse
import json
import struct

import torch
import torch.nn as nn


class ScalingLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer('shift', torch.tensor([-.030, -.088, -.188])[None, :, None, None])
        self.register_buffer('scale', torch.tensor([.458, .448, .450])[None, :, None, None])

    def forward(self, x):
        return (x - self.shift) / self.scale


class AlexNetSlices(nn.Module):
    """torchvision alexnet.features, cut into slices as lpips.pretrained_networks.alexnet does."""

    def __init__(self):
        super().__init__()
        features = [
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=False),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=False),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=False),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=False),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=False),
        ]
        bounds = [(0, 2), (2, 5), (5, 8), (8, 10), (10, 12)]
        for s, (lo, hi) in enumerate(bounds, start=1):
            seq = nn.Sequential()
            for i in range(lo, hi):
                seq.add_module(str(i), features[i])
            setattr(self, f'slice{s}', seq)

    def forward(self, x):
        outs = []
        for s in range(1, 6):
            x = getattr(self, f'slice{s}')(x)
            outs.append(x)
        return outs


class NetLinLayer(nn.Module):
    def __init__(self, chn_in):
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(chn_in, 1, 1, stride=1, padding=0, bias=False))


class LPIPSAlex(nn.Module):
    def __init__(self):
        super().__init__()
        self.scaling_layer = ScalingLayer()
        self.net = AlexNetSlices()
        for i, c in enumerate([64, 192, 384, 256, 256]):
            setattr(self, f'lin{i}', NetLinLayer(c))
        # As in lpips.LPIPS: the same layers again, so the state_dict also holds lins.{i}.model.1.weight.
        self.lins = nn.ModuleList([getattr(self, f'lin{i}') for i in range(5)])

    def forward(self, in0, in1):
        outs0 = self.net(self.scaling_layer(in0))
        outs1 = self.net(self.scaling_layer(in1))
        val = 0
        for k in range(5):
            f0, f1 = normalize_tensor(outs0[k]), normalize_tensor(outs1[k])
            val = val + getattr(self, f'lin{k}').model((f0 - f1) ** 2).mean([2, 3], keepdim=True)
        return val


def normalize_tensor(in_feat, eps=1e-10):
    norm_factor = torch.sqrt(torch.sum(in_feat ** 2, dim=1, keepdim=True))
    return in_feat / (norm_factor + eps)


def write_safetensors(path, state):
    header, blobs, offset = {}, [], 0
    for name in sorted(state):
        data = state[name].detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(state[name].shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--weights', required=True)
    p.add_argument('--pairs', required=True)
    args = p.parse_args()

    torch.manual_seed(args.seed)
    model = LPIPSAlex().eval()
    with torch.no_grad():
        for i in range(5):
            # The released lin weights are non-negative (clamped in training), which makes LPIPS >= 0.
            w = getattr(model, f'lin{i}').model[1].weight
            w.copy_(w.abs())
    write_safetensors(args.weights, model.state_dict())

    with open(args.pairs) as f:
        pairs = json.load(f)
    n, h, w, c = pairs['shape']

    def images(key, dtype):
        x = torch.tensor(pairs[key], dtype=dtype).reshape(n, h, w, c).permute(0, 3, 1, 2)
        x = x / (255. / 2.) - 1.  # lpips.im2tensor
        return x.repeat(1, 3, 1, 1) if c == 1 else x

    result = {}
    with torch.no_grad():
        for name, dtype in [('float32', torch.float32), ('float64', torch.float64)]:
            m = model.to(dtype)
            result[name] = m(images('a', dtype), images('b', dtype)).flatten().tolist()
    print(json.dumps(result))


if __name__ == '__main__':
    main()
