"""Flows on lists of channels-last tensors: the base class, chains, repeats and parallels.

Conventions of the generated code (the same as typed-flows', so the numbers agree): tensors are
channels-last, [N, H, W, C] for an image event [C, H, W], [N, D] for a vector [D]; every flow maps a
list of tensors to a list of tensors and returns log|det J| per sample ([N]).
"""
import torch.nn as nn


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
