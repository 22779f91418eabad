"""Small models shaped like the ones Captum's own tests use, written for integrad's tests.

They exercise what Captum's Integrated Gradients, Layer Integrated Gradients and NoiseTunnel
test files check: layers returning tuples, layers reading several inputs, nested
embeddings, extra positional arguments, multi-dimensional outputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PaperExample(nn.Module):
    """Sundararajan et al.'s first example: f(x1, x2) = relu(relu(x1) - 1 - relu(x2))."""

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return F.relu(F.relu(x1) - 1 - F.relu(x2))


class PaperExampleShifted(nn.Module):
    """Their second example: f(x1, x2) = relu(relu(x1 - 1) - relu(x2)), the same function
    as :class:`PaperExample` written differently (implementation invariance)."""

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return F.relu(F.relu(x1 - 1) - F.relu(x2))


class ExtraArguments(nn.Module):
    """relu(relu(x1 - 1) - relu(x2) / divisor)[:, column]: two extra positional arguments."""

    def forward(self, x1, x2, divisor, column: int = 0):
        return F.relu(F.relu(x1 - 1) - F.relu(x2).div(divisor))[:, column]


class Ramp(nn.Module):
    """f(x) = min(x, 1): one input, one output per example, a kink at 1."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1 - F.relu(1 - x)


class ListArguments(nn.Module):
    """relu(relu(x1 - 1) * scales[0] - relu(x2) * scales[1])[:, column]: a python list and an
    int as extra positional arguments."""

    def forward(self, x1, x2, scales, column: int = 0):
        return F.relu(F.relu(x1 - 1) * scales[0] - F.relu(x2) * scales[1])[:, column]


class SummedPair(nn.Module):
    """min(x1 + x2, 1)[:, 1]: two inputs that only matter through their sum."""

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return 1 - F.relu(1 - (x1 + x2))[:, 1]


class PairOfRelus(nn.Module):
    """A layer with two inputs and a tuple of two outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.second = nn.ReLU(), nn.ReLU()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.first(a), self.second(b)


class ThreeLayers(nn.Module):
    """Identity, then 3 -> 4 with biases (-10, 1, 1, 1), relu, then 4 -> 2; fixed weights, so
    attributions have closed forms. ``pair=True`` routes through :class:`PairOfRelus` (two
    parallel branches that add up) and still calls ``relu`` on the side, unused."""

    def __init__(self, pair: bool = False) -> None:
        super().__init__()
        self.pair = pair
        self.identity = nn.Linear(3, 3)
        self.hidden = nn.Linear(3, 4)
        self.hidden_alt = nn.Linear(3, 4)
        self.relu = nn.ReLU()
        self.pair_of_relus = PairOfRelus()
        self.out = nn.Linear(4, 2)
        with torch.no_grad():
            self.identity.weight.copy_(torch.eye(3))
            self.identity.bias.zero_()
            for layer in (self.hidden, self.hidden_alt):
                layer.weight.fill_(1.0)
                layer.bias.copy_(torch.tensor([-10.0, 1.0, 1.0, 1.0]))
            self.out.weight.fill_(1.0)
            self.out.bias.copy_(torch.tensor([-1.0, 1.0]))

    def forward(self, x, extra=None, multidim: bool = False):
        x = x if extra is None else x + extra
        h = self.hidden(self.identity(x))
        if self.pair:
            a, b = self.pair_of_relus(h, self.hidden_alt(x))
            r = a + b
            self.relu(h)  # called, but its output is not used
        else:
            r = self.relu(h)
        out = self.out(r)
        if multidim:  # (batch, 2, 2, 2)
            pair = torch.stack((out, 2 * out), dim=2)
            return torch.stack((pair, 4 * pair), dim=3)
        return out


class SummedInputs(nn.Module):
    """:class:`ThreeLayers` on ``scale * (x1 + x2 + x3)``: a layer that reads three inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = ThreeLayers()

    def forward(self, x1, x2, x3, scale: int = 1):
        return self.inner(scale * (x1 + x2 + x3))


class TwoBranches(nn.Module):
    """m1(x1) + m234(x2, x3, x1 or x4): the second layer reads three of the model's inputs,
    one of which the first layer reads too."""

    def __init__(self) -> None:
        super().__init__()
        self.m1 = ThreeLayers()
        self.m234 = SummedInputs()

    def forward(self, x1, x2, x3, x4=None):
        return self.m1(x1) + self.m234(x2, x3, x1 if x4 is None else x4, scale=1)


class InnerEmbeddings(nn.Module):
    """An embedding module holding one or two embeddings, summed when both are used."""

    def __init__(self, vocab: int, dim: int) -> None:
        super().__init__()
        self.first = nn.Embedding(vocab, dim)
        self.second = nn.Embedding(vocab, dim)

    def forward(self, ids, other=None):
        if other is None:
            return self.first(ids)
        return self.first(ids) + self.second(other)


class TwoEmbeddings(nn.Module):
    """Token ids through an embedding and a nested embedding module, summed, then an MLP."""

    def __init__(self, vocab: int = 30, dim: int = 16, hidden: int = 32) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embedding1 = nn.Embedding(vocab, dim)
        self.embedding2 = InnerEmbeddings(vocab, dim)
        self.linear1 = nn.Linear(dim, hidden, bias=False)
        self.relu = nn.Tanh()
        self.linear2 = nn.Linear(hidden, 1)

    def forward(self, ids1, ids2, ids3=None):
        e = self.embedding1(ids1) + self.embedding2(ids2, ids3)
        return self.linear2(self.relu(self.linear1(e))).sum(1)
