/**
 * The Python classes and helpers the generated modules are made of, one part per bijector kind, net,
 * transformer or helper, each with the parts it needs. A module includes only the parts its flows use.
 *
 * Conventions of the generated code (the same as typed-flows', so the numbers agree):
 * - tensors are channels-last, [N, H, W, C] for an image event [C, H, W], [N, D] for a vector [D];
 * - every flow maps a list of tensors to a list of tensors and returns log|det J| per sample ([N]);
 * - parameters keep typed-flows' names and shapes (conv kernels [kH, kW, cIn, cOut], dense kernels
 *   [in, out]) and are permuted where they are used, so state_dict() keys and shapes are the
 *   checkpoint's; frozen parameters (LU permutation and sign, batch-norm statistics) are buffers;
 * - determinants and matrix inverses are computed in float64, as typed-flows does.
 */

export type PartName =
  | 'base'
  | 'chain'
  | 'parallel'
  | 'linalg'
  | 'spaceToDepth'
  | 'conv'
  | 'dense'
  | 'convNet'
  | 'mlp'
  | 'made'
  | 'affineTransform'
  | 'additiveTransform'
  | 'splineTransform'
  | 'Affine'
  | 'ActNorm'
  | 'Inv1x1'
  | 'Inv1x1LU'
  | 'Coupling'
  | 'ConditionalAffine'
  | 'Squeeze'
  | 'Unsqueeze'
  | 'Permute'
  | 'Logit'
  | 'Identity'
  | 'Split'
  | 'Concat'
  | 'Exp'
  | 'MaskedAutoregressive'
  | 'Softplus'
  | 'Tanh'
  | 'ScaleShift'
  | 'BatchNorm'
  | 'Reshape';

interface Part {
  readonly needs: readonly PartName[];
  readonly code: string;
}

const part = (needs: readonly PartName[], code: string): Part => ({ needs, code: code.trim() });

export const parts: { readonly [K in PartName]: Part } = {
  base: part(
    [],
    `
def per_sample(x, value):
    """A log-det that is the same scalar for every sample of the batch x."""
    return value.expand(x.shape[0])


def zero_log_det(x):
    return x.new_zeros(x.shape[0])


def sum_per_sample(t):
    """Sum over every axis but the batch axis."""
    return t.reshape(t.shape[0], -1).sum(1)


class Flow(nn.Module):
    """A bijection on lists of channels-last tensors.

    flow(xs, ctx) -> (ys, log|det dy/dx|) and flow.inverse(ys, ctx) -> (xs, log|det dx/dy|), log-dets
    per sample. ctx maps conditioning names to tensors. An inverted flow (see inverted()) swaps the two.
    """

    inverted = False

    def forward(self, xs, ctx=None):
        return self.run(list(xs), ctx or {}, False)

    def inverse(self, ys, ctx=None):
        return self.run(list(ys), ctx or {}, True)

    def run(self, xs, ctx, inverse):
        if inverse != self.inverted:
            return self._inverse(xs, ctx)
        return self._forward(xs, ctx)


def inverted(flow):
    """The same flow (and parameters) run backwards: typed-flows' invert()."""
    flow.inverted = not flow.inverted
    return flow
`,
  ),
  chain: part(
    ['base'],
    `
class Chain(Flow):
    """Steps one after another (backwards in the inverse); step i's parameters are under 'i.'."""

    def __init__(self, steps):
        super().__init__()
        for i, step in enumerate(steps):
            self.add_module(str(i), step)

    def _forward(self, xs, ctx):
        total = 0
        for step in self.children():
            xs, log_det = step.run(xs, ctx, False)
            total = total + log_det
        return xs, total

    def _inverse(self, ys, ctx):
        total = 0
        for step in reversed(list(self.children())):
            ys, log_det = step.run(ys, ctx, True)
            total = total + log_det
        return ys, total


def repeat(n, make):
    """n copies of a flow in sequence, each with its own parameters."""
    return Chain([make() for _ in range(n)])
`,
  ),
  parallel: part(
    ['base'],
    `
class Parallel(Flow):
    """Branches side by side: inputs dealt out by each branch's arity, outputs collected in order.

    arities[i] = (number of forward inputs, number of forward outputs) of branch i.
    """

    def __init__(self, branches, arities):
        super().__init__()
        for i, branch in enumerate(branches):
            self.add_module(str(i), branch)
        self.arities = arities

    def _pass(self, xs, ctx, inverse):
        outs, total, at = [], 0, 0
        for branch, (n_in, n_out) in zip(self.children(), self.arities):
            n = n_out if inverse else n_in
            ys, log_det = branch.run(xs[at:at + n], ctx, inverse)
            at += n
            outs += ys
            total = total + log_det
        return outs, total

    def _forward(self, xs, ctx):
        return self._pass(xs, ctx, False)

    def _inverse(self, ys, ctx):
        return self._pass(ys, ctx, True)
`,
  ),
  linalg: part(
    [],
    `
def log_abs_det(w):
    """log|det W|, computed in float64."""
    return torch.linalg.slogdet(w.double())[1].to(w.dtype)


def inverse_matrix(w):
    """W^-1, computed in float64."""
    return torch.linalg.inv(w.double()).to(w.dtype)


def mix_channels(x, w):
    """y[..., o] = sum_c w[o, c] x[..., c]. On an image [N, H, W, C] this is a 1x1 convolution of its
    channels-last NCHW view (no copy): oneDNN runs that much faster than matmul does through a generic
    BLAS (Debian's torch), and the result is the same up to float32 rounding."""
    if x.dim() == 4:
        return F.conv2d(x.permute(0, 3, 1, 2), w[:, :, None, None]).permute(0, 2, 3, 1)
    return x @ w.t()
`,
  ),
  spaceToDepth: part(
    [],
    `
def space_to_depth(x):
    """2x2 squeeze of [N, H, W, C] to [N, H/2, W/2, 4C]: channel 4c + 2dy + dx (pixel_unshuffle's order)."""
    n, h, w, c = x.shape
    blocks = x.reshape(n, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 5, 2, 4)
    return blocks.reshape(n, h // 2, w // 2, 4 * c)


def depth_to_space(y):
    """The inverse of space_to_depth: [N, H, W, 4C] to [N, 2H, 2W, C]."""
    n, h, w, c4 = y.shape
    blocks = y.reshape(n, h, w, c4 // 4, 2, 2).permute(0, 1, 4, 2, 5, 3)
    return blocks.reshape(n, 2 * h, 2 * w, c4 // 4)
`,
  ),
  conv: part(
    [],
    `
class Conv(nn.Module):
    """'Same'-padded stride-1 convolution; kernel stored [kH, kW, cIn, cOut] (typed-flows' layout)."""

    def __init__(self, k, c_in, c_out):
        super().__init__()
        self.kernel = nn.Parameter(torch.zeros(k, k, c_in, c_out))
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x):
        """x: [N, C, H, W] (a channels-last tensor viewed through permute, so no copy)."""
        return F.conv2d(x, self.kernel.permute(3, 2, 0, 1), self.bias, padding=self.kernel.shape[0] // 2)
`,
  ),
  dense: part(
    [],
    `
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
`,
  ),
  convNet: part(
    ['conv'],
    `
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
`,
  ),
  mlp: part(
    ['dense'],
    `
class MLP(nn.Module):
    """dense0 .. denseL with the activation after each hidden layer; with residual, a square hidden
    layer past the first adds its input."""

    def __init__(self, widths, activation, residual):
        super().__init__()
        for l in range(len(widths) - 1):
            self.add_module(f'dense{l}', Dense(widths[l], widths[l + 1]))
        self.activation = ACTIVATIONS[activation]
        self.residual = residual

    def forward(self, x):
        layers = list(self.children())
        h = x
        for l, layer in enumerate(layers):
            pre = layer(h)
            if l == len(layers) - 1:
                return pre
            a = self.activation(pre)
            square = layer.kernel.shape[0] == layer.kernel.shape[1]
            h = h + a if self.residual and l > 0 and square else a
`,
  ),
  made: part(
    ['dense'],
    `
class MADE(nn.Module):
    """A masked MLP (Germain et al. 2015): the first d inputs are autoregressive in 'order', the rest
    context; output o belongs to element o mod d and sees only the inputs before it in the order.
    The masks are rebuilt from the order (not saved), as typed-flows does."""

    def __init__(self, widths, activation, d, order):
        super().__init__()
        for l in range(len(widths) - 1):
            self.add_module(f'dense{l}', Dense(widths[l], widths[l + 1]))
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
        for l, (degrees, strict) in enumerate(layers):
            mask = [[float(a > b if strict else a >= b) for a in degrees] for b in below]
            self.register_buffer(f'mask{l}', torch.tensor(mask), persistent=False)
            below = degrees

    def forward(self, x):
        layers = [m for m in self.children()]
        h = x
        for l, layer in enumerate(layers):
            h = layer(h, getattr(self, f'mask{l}'))
            if l < len(layers) - 1:
                h = self.activation(h)
        return h
`,
  ),
  affineTransform: part(
    [],
    `
def affine_transform(z, raw, inverse, clamp):
    """raw = [s_raw, t] on channels; s = clamp (2/pi) atan(s_raw); y = z exp(s) + t, log|dy/dz| = s."""
    s_raw, t = raw.chunk(2, -1)
    s = torch.atan(s_raw) * (2 * clamp / math.pi)
    if inverse:
        return (z - t) * torch.exp(-s), -sum_per_sample(s)
    return z * torch.exp(s) + t, sum_per_sample(s)
`,
  ),
  additiveTransform: part(
    [],
    `
def additive_transform(z, raw, inverse):
    """y = z + t; volume preserving."""
    return (z - raw if inverse else z + raw), zero_log_det(z)
`,
  ),
  splineTransform: part(
    [],
    `
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
`,
  ),
  Affine: part(
    ['base'],
    `
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
`,
  ),
  ActNorm: part(
    ['base'],
    `
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
`,
  ),
  Inv1x1: part(
    ['base', 'linalg'],
    `
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
`,
  ),
  Inv1x1LU: part(
    ['base', 'linalg'],
    `
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
`,
  ),
  Coupling: part(
    ['base'],
    `
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
`,
  ),
  ConditionalAffine: part(
    ['base', 'affineTransform'],
    `
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
`,
  ),
  Squeeze: part(
    ['base', 'spaceToDepth'],
    `
class Squeeze(Flow):
    """2x2 space-to-depth, [C,H,W] -> [4C,H/2,W/2]."""

    def _forward(self, xs, ctx):
        return [space_to_depth(xs[0])], zero_log_det(xs[0])

    def _inverse(self, ys, ctx):
        return [depth_to_space(ys[0])], zero_log_det(ys[0])
`,
  ),
  Unsqueeze: part(
    ['base', 'spaceToDepth'],
    `
class Unsqueeze(Flow):
    """2x2 depth-to-space, [C,H,W] -> [C/4,2H,2W]."""

    def _forward(self, xs, ctx):
        return [depth_to_space(xs[0])], zero_log_det(xs[0])

    def _inverse(self, ys, ctx):
        return [space_to_depth(ys[0])], zero_log_det(ys[0])
`,
  ),
  Permute: part(
    ['base'],
    `
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
`,
  ),
  Logit: part(
    ['base'],
    `
class Logit(Flow):
    """p = alpha/2 + (1 - alpha) x / levels, y = log p - log(1 - p); for dequantised q-level data."""

    def __init__(self, alpha, levels):
        super().__init__()
        self.alpha = alpha
        self.levels = levels
        self.constant = -math.log(levels) + math.log1p(-alpha)

    def _forward(self, xs, ctx):
        x, = xs
        p = x * ((1 - self.alpha) / self.levels) + self.alpha / 2
        log_p, log_1mp = torch.log(p), torch.log1p(-p)
        return [log_p - log_1mp], sum_per_sample(self.constant - log_p - log_1mp)

    def _inverse(self, ys, ctx):
        y, = ys
        log_p, log_1mp = -F.softplus(-y), -F.softplus(y)
        x = (torch.sigmoid(y) - self.alpha / 2) * (self.levels / (1 - self.alpha))
        return [x], sum_per_sample(-self.constant + log_p + log_1mp)
`,
  ),
  Identity: part(
    ['base'],
    `
class Identity(Flow):
    def _forward(self, xs, ctx):
        return list(xs), zero_log_det(xs[0])

    def _inverse(self, ys, ctx):
        return list(ys), zero_log_det(ys[0])
`,
  ),
  Split: part(
    ['base'],
    `
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
`,
  ),
  Concat: part(
    ['base'],
    `
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
`,
  ),
  Exp: part(
    ['base'],
    `
class Exp(Flow):
    """y = exp(x), log|det| = sum(x)."""

    def _forward(self, xs, ctx):
        x, = xs
        return [torch.exp(x)], sum_per_sample(x)

    def _inverse(self, ys, ctx):
        x = torch.log(ys[0])
        return [x], -sum_per_sample(x)
`,
  ),
  MaskedAutoregressive: part(
    ['base'],
    `
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
`,
  ),
  Softplus: part(
    ['base'],
    `
class Softplus(Flow):
    """y = log(1 + e^x), log|dy/dx| = -softplus(-x)."""

    def _forward(self, xs, ctx):
        x, = xs
        return [F.softplus(x)], -sum_per_sample(F.softplus(-x))

    def _inverse(self, ys, ctx):
        y, = ys
        log_one_minus = torch.log(-torch.expm1(-y))
        return [y + log_one_minus], -sum_per_sample(log_one_minus)
`,
  ),
  Tanh: part(
    ['base'],
    `
class Tanh(Flow):
    """y = tanh(x), log|dy/dx| = 2 (log 2 - x - softplus(-2x))."""

    def _forward(self, xs, ctx):
        x, = xs
        return [torch.tanh(x)], sum_per_sample(2 * (math.log(2) - x - F.softplus(-2 * x)))

    def _inverse(self, ys, ctx):
        y, = ys
        a, b = torch.log1p(y), torch.log1p(-y)
        return [0.5 * (a - b)], -sum_per_sample(a + b)
`,
  ),
  ScaleShift: part(
    ['base'],
    `
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
`,
  ),
  BatchNorm: part(
    ['base'],
    `
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
`,
  ),
  Reshape: part(
    ['base'],
    `
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
`,
  ),
};

/** The parts `names` need, each once, every part after the parts it needs. */
export const withDependencies = (names: Iterable<PartName>): PartName[] => {
  const order: PartName[] = [];
  const seen = new Set<PartName>();
  const visit = (n: PartName): void => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const d of parts[n].needs) visit(d);
    order.push(n);
  };
  for (const n of names) visit(n);
  return order;
};
